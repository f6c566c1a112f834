import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor } from '@chat/kit/async';
import { type LocalRuntime, startLocalRuntime } from '@chat/local/runtime';
import { connectWs, type WsClient, type WsEvent } from '@chat/local/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCql } from '#adapters/cql/client.ts';
import { closeRedis } from '#adapters/redis/client.ts';
import { config } from '#platform/config.ts';
import { type Api, httpApi } from './support/http-api.ts';

// Issue 16, item 6: presence and `lastSeenAt` only for people who share a conversation with the asker, over the
// public API (real HTTP and WebSocket sockets against the local runtime, real Redis and Cassandra).
const run = randomBytes(3).toString('hex');
const password = 'correct horse battery staple';

let rt: LocalRuntime;
let api: Api;
const logs: string[] = [];
const clients: WsClient[] = [];

interface Session {
  user: { id: string; username: string };
  accessToken: string;
}
async function signup(name: string): Promise<Session> {
  const res = await api('POST', '/auth/signup', { body: { username: `p${run}${name}`, password } });
  expect(res.status).toBe(201);
  return res.body;
}
async function open(s: Session): Promise<WsClient> {
  const t = await api('POST', '/auth/ws-ticket', { token: s.accessToken });
  const c = await connectWs(rt.wsUrl, { ticket: t.body.ticket });
  clients.push(c);
  return c;
}
const presenceOf = (userId: string) => (e: WsEvent) => e.type === 'presence' && e.userId === userId;

let alice: Session;
let bob: Session;
let stranger: Session;

beforeAll(async () => {
  rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    functions: ['httpAuth', 'httpConversations', 'httpDirectory', 'wsConnect', 'wsDisconnect', 'wsPing'],
    env: { JWT_KEYS_FILE: resolve(config.jwtKeysFile()) },
    kafka: false,
    schedules: false,
    log: (source, line) => logs.push(`[${source}] ${line}`),
  });
  api = httpApi(rt.httpUrl);
  [alice, bob, stranger] = await Promise.all([signup('alice'), signup('bob'), signup('eve')]);
  const dm = await api('POST', '/conversations', {
    token: alice.accessToken,
    body: { type: 'dm', peerId: bob.user.id },
  });
  expect(dm.status).toBe(201);
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await rt?.stop();
  await Promise.all([closeCql(), closeRedis()]);
  mkdirSync('.local/test-logs', { recursive: true });
  writeFileSync('.local/test-logs/presence-privacy.e2e.log', `${logs.join('\n')}\n`);
}, 60_000);

describe('who sees presence', () => {
  it('GET /presence answers for contacts; a stranger gets nothing about them', async () => {
    const a = await open(alice);
    const asBob = await api('GET', `/presence?userIds=${alice.user.id}`, { token: bob.accessToken });
    expect(asBob.body.presence).toEqual([{ userId: alice.user.id, online: true, lastSeenAt: null }]);
    const asStranger = await api('GET', `/presence?userIds=${alice.user.id},${bob.user.id}`, {
      token: stranger.accessToken,
    });
    expect(asStranger.status).toBe(200);
    expect(asStranger.body.presence).toEqual([]);
    // Nor `lastSeenAt` once she is gone.
    await a.close();
    const seen = await waitFor(
      async () => {
        const res = await api('GET', `/presence?userIds=${alice.user.id}`, { token: bob.accessToken });
        return res.body.presence[0]?.lastSeenAt ? res.body.presence[0] : undefined;
      },
      { timeoutMs: 10_000, what: "alice's lastSeenAt" },
    );
    expect(seen.online).toBe(false);
    const later = await api('GET', `/presence?userIds=${alice.user.id}`, { token: stranger.accessToken });
    expect(later.body.presence).toEqual([]);
  });

  it('the directory finds anyone, but shows the online flag of contacts only', async () => {
    await open(alice);
    const query = `/users?query=p${run}alice`;
    const asBob = await api('GET', query, { token: bob.accessToken });
    expect(asBob.body.users).toEqual([expect.objectContaining({ id: alice.user.id, online: true })]);
    const asStranger = await api('GET', query, { token: stranger.accessToken });
    expect(asStranger.body.users).toHaveLength(1);
    expect(asStranger.body.users[0].id).toBe(alice.user.id);
    expect(asStranger.body.users[0]).not.toHaveProperty('online');
  });

  it('presence events go to contacts only', async () => {
    const [b, s] = await Promise.all([open(bob), open(stranger)]);
    for (const c of clients.filter((c) => c !== b && c !== s)) await c.close().catch(() => undefined);
    // Alice's sockets are all closed: her next one takes her online, which her contacts hear.
    await waitFor(
      async () => {
        const res = await api('GET', `/presence?userIds=${alice.user.id}`, { token: bob.accessToken });
        return res.body.presence[0]?.online === false;
      },
      { timeoutMs: 10_000, what: 'alice offline' },
    );
    await open(alice);
    const online = await b.next((e) => presenceOf(alice.user.id)(e) && e.online === true);
    expect(online).toMatchObject({ lastSeenAt: null });
    // The stranger's socket works (it answers a ping) but was told nothing about alice (offline nor online).
    s.send({ action: 'ping' });
    await s.next((e) => e.type === 'pong');
    expect(s.events.filter(presenceOf(alice.user.id))).toEqual([]);
  });
});
