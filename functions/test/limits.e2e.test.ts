import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor } from '@chat/kit/async';
import { type LocalRuntime, startLocalRuntime } from '@chat/local/runtime';
import { connectWs, refusedWith, type WsClient } from '@chat/local/testing';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCql } from '#adapters/cql/client.ts';
import { closeRedis } from '#adapters/redis/client.ts';
import { loginBackoff } from '#contracts/limits.ts';
import { config } from '#platform/config.ts';
import { type Api, type ApiResponse, httpApiFrom } from './support/http-api.ts';

// Issue 16, item 1: the per-person budgets over the public API. A local runtime (ephemeral ports, its own Redis
// key prefix) with small budgets set through RATE_LIMITS, as an operator would; clients come from several
// loopback addresses (127.0.0.x), which the API Gateway emulator reports as `sourceIp`, as API Gateway does.
const run = randomBytes(3).toString('hex');
const password = 'correct horse battery staple';
const RATE_LIMITS = [
  'signupPerIp=3/600',
  'loginPerIp=1000/600',
  'loginFailuresPerIp=1000/600',
  'wsTicketPerUser=15/600',
  'groupCreatePerUser=2/600',
  'memberAddsPerUser=5/600',
  'httpPerUser=30/600',
  'connectionsPerUser=2',
].join(',');

let rt: LocalRuntime;
const logs: string[] = [];
const clients: WsClient[] = [];
let ipSeq = 10;
/** A client on a loopback address of its own. */
const newClient = (): Api => httpApiFrom(rt.httpUrl, `127.0.0.${++ipSeq}`);

interface Session {
  user: { id: string; username: string };
  accessToken: string;
  refreshToken: string;
}
let userSeq = 0;
/** A fresh user, signed up from an address of its own (each address has a sign-up budget of 3). */
async function signup(api: Api = newClient()): Promise<Session> {
  const res = await api('POST', '/auth/signup', { body: { username: `l${run}${++userSeq}`, password } });
  expect(res.status).toBe(201);
  return res.body;
}

function expectTooMany(res: ApiResponse): void {
  expect(res.status).toBe(429);
  expect(res.body.error.code).toBe('too_many_requests');
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
}

beforeAll(async () => {
  rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    functions: ['httpAuth', 'httpConversations', 'httpDirectory', 'wsConnect', 'wsDisconnect', 'wsPing'],
    env: { JWT_KEYS_FILE: resolve(config.jwtKeysFile()), RATE_LIMITS },
    kafka: false,
    schedules: false,
    log: (source, line) => logs.push(`[${source}] ${line}`),
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await rt?.stop();
  await Promise.all([closeCql(), closeRedis()]);
  mkdirSync('.local/test-logs', { recursive: true });
  writeFileSync('.local/test-logs/limits.e2e.log', `${logs.join('\n')}\n`);
}, 60_000);

describe('limits per IP', () => {
  it('sign-ups: 429 with Retry-After past the budget of one IP; another IP is not affected', async () => {
    const fromA = newClient();
    for (let i = 0; i < 3; i++) await signup(fromA);
    const over = await fromA('POST', '/auth/signup', { body: { username: `l${run}over`, password } });
    expectTooMany(over);
    await signup(newClient());
  });
});

describe('failed logins', () => {
  it('slow down one (username, IP) pair with growing delays; the victim at another IP still signs in', async () => {
    const victim = await signup();
    const attacker = newClient();
    const victimIp = newClient();
    const attempt = (api: Api, pw: string) =>
      api('POST', '/auth/login', { body: { username: victim.user.username, password: pw } });

    for (let i = 0; i < loginBackoff.freeFailures; i++) {
      expect((await attempt(attacker, 'wrong password!')).status).toBe(401);
    }
    // The pair now waits: refused before any password work, even with the right password.
    const first = await attempt(attacker, 'wrong password!');
    expect(first.status).toBe(401);
    const refused = await attempt(attacker, password);
    expectTooMany(refused);
    expect(Number(refused.headers['retry-after'])).toBe(loginBackoff.firstDelaySeconds);

    // The stranger's failures do not lock the victim out: from the victim's own address, the password works.
    expect((await attempt(victimIp, password)).status).toBe(200);

    // The delay grows: once the first wait is over, the next failure doubles it.
    const next = await waitFor(
      async () => {
        const res = await attempt(attacker, 'wrong password!');
        return res.status === 401 ? res : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250, what: 'the first delay to pass' },
    );
    expect(next.status).toBe(401);
    const longer = await attempt(attacker, password);
    expectTooMany(longer);
    expect(Number(longer.headers['retry-after'])).toBe(2 * loginBackoff.firstDelaySeconds);
  });
});

describe('limits per user', () => {
  it('HTTP requests: any authenticated route counts; past the budget 429, other users unaffected', async () => {
    const [heavy, other] = await Promise.all([signup(), signup()]);
    const api = newClient();
    let last: ApiResponse | undefined;
    for (let i = 0; i < 30; i++) {
      last = await api('GET', i % 2 ? '/me' : '/conversations', { token: heavy.accessToken });
      expect(last.status).toBe(200);
    }
    expectTooMany(await api('GET', '/users?query=l', { token: heavy.accessToken }));
    expectTooMany(await api('GET', '/me', { token: heavy.accessToken }));
    expect((await api('GET', '/me', { token: other.accessToken })).status).toBe(200);
  });

  it('WebSocket tickets: past the budget 429', async () => {
    const s = await signup();
    const api = newClient();
    for (let i = 0; i < 15; i++) {
      expect((await api('POST', '/auth/ws-ticket', { token: s.accessToken })).status).toBe(200);
    }
    expectTooMany(await api('POST', '/auth/ws-ticket', { token: s.accessToken }));
  });

  it('open connections: the $connect past the cap is refused with 429; a slot frees when one closes', async () => {
    const s = await signup();
    const api = newClient();
    const ticket = async () => (await api('POST', '/auth/ws-ticket', { token: s.accessToken })).body.ticket;
    const first = await connectWs(rt.wsUrl, { ticket: await ticket() });
    const second = await connectWs(rt.wsUrl, { ticket: await ticket() });
    clients.push(first, second);
    expect(await refusedWith(rt.wsUrl, { ticket: await ticket() })).toBe(429);
    await first.close();
    // `$disconnect` frees the slot.
    const third = await waitFor(
      async () => {
        try {
          return await connectWs(rt.wsUrl, { ticket: await ticket() });
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 11_000, intervalMs: 1_000, what: 'a free connection slot' },
    );
    clients.push(third);
  });

  it('group creation and member adds: each has its budget (members of a new group count as adds)', async () => {
    const s = await signup();
    const api = newClient();
    const someone = () => ulid();
    const group = (memberIds: string[]) =>
      api('POST', '/conversations', {
        token: s.accessToken,
        body: { type: 'group', title: 'limited', memberIds },
      });
    // Whatever the answer of the core (these ids are nobody), each call spends its budget.
    expect((await group([someone()])).status).not.toBe(429);
    expect((await group([someone(), someone(), someone()])).status).not.toBe(429);
    expectTooMany(await group([]));
    // One add left (1 + 3 of 5 spent by the groups): one member passes, two do not.
    const add = (n: number) =>
      api('POST', `/conversations/${ulid()}/members`, {
        token: s.accessToken,
        body: { memberIds: Array.from({ length: n }, someone) },
      });
    expect((await add(1)).status).not.toBe(429);
    expectTooMany(await add(1));
  });
});
