import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor } from '@chat/kit/async';
import { type LocalRuntime, startLocalRuntime } from '@chat/local/runtime';
import { connectWs, refusedWith, type WsClient } from '@chat/local/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_CHECK_CACHE_MS } from '#adapters/auth/sessions.ts';
import { closeCql } from '#adapters/cql/client.ts';
import { closeRedis } from '#adapters/redis/client.ts';
import { config } from '#platform/config.ts';
import { type Api, httpApi } from './support/http-api.ts';

// Issue 16, item 3: revocation that bites, over the public API (real HTTP and WebSocket sockets against the
// local runtime, real Redis and Cassandra). Logout and refresh-token reuse close the session's sockets with a
// `session_revoked` frame, tickets need a live session, and a revoked session's access tokens stop working
// within the session check's cache bound.
const run = randomBytes(3).toString('hex');
const password = 'correct horse battery staple';

let rt: LocalRuntime;
let api: Api;
const logs: string[] = [];
const clients: WsClient[] = [];

interface Session {
  user: { id: string; username: string };
  accessToken: string;
  refreshToken: string;
}
let seq = 0;
async function signup(): Promise<Session> {
  const res = await api('POST', '/auth/signup', { body: { username: `r${run}${++seq}`, password } });
  expect(res.status).toBe(201);
  return res.body;
}
async function login(username: string): Promise<Session> {
  const res = await api('POST', '/auth/login', { body: { username, password } });
  expect(res.status).toBe(200);
  return res.body;
}
async function ticketOf(s: Session): Promise<string> {
  const res = await api('POST', '/auth/ws-ticket', { token: s.accessToken });
  expect(res.status).toBe(200);
  return res.body.ticket;
}
async function open(s: Session): Promise<WsClient> {
  const c = await connectWs(rt.wsUrl, { ticket: await ticketOf(s) });
  clients.push(c);
  return c;
}

/** The socket is told its session ended, then closed by the server (DeleteConnection: 1000). */
async function expectRevoked(c: WsClient): Promise<void> {
  const frame = await c.next((e) => e.type === 'error' && e.code === 'session_revoked', 10_000);
  expect(frame).toMatchObject({ type: 'error', code: 'session_revoked' });
  const closed = await Promise.race([
    c.closed,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('socket not closed')), 10_000)),
  ]);
  expect(closed.code).toBe(1000);
}

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
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await rt?.stop();
  await Promise.all([closeCql(), closeRedis()]);
  mkdirSync('.local/test-logs', { recursive: true });
  writeFileSync('.local/test-logs/revocation.e2e.log', `${logs.join('\n')}\n`);
}, 60_000);

describe('logout', () => {
  it("closes every socket of the session (session_revoked, then close 1000); the user's other session stays", async () => {
    const first = await signup();
    const second = await login(first.user.username);
    const [a1, a2, other] = await Promise.all([open(first), open(first), open(second)]);
    const unused = await ticketOf(first);

    expect((await api('POST', '/auth/logout', { body: { refreshToken: first.refreshToken } })).status).toBe(
      204,
    );

    await Promise.all([expectRevoked(a1), expectRevoked(a2)]);
    // A ticket issued before the logout no longer admits a socket; no new ticket is issued.
    expect(await refusedWith(rt.wsUrl, { ticket: unused })).toBe(401);
    const ticket = await api('POST', '/auth/ws-ticket', { token: first.accessToken });
    expect(ticket.status).toBe(401);
    // The other session's socket still works.
    other.send({ action: 'ping' });
    expect(await other.next((e) => e.type === 'pong')).toMatchObject({ type: 'pong' });
    expect((await api('GET', '/me', { token: second.accessToken })).status).toBe(200);
  });

  it("refuses the session's access tokens within the documented bound, on every function", async () => {
    const s = await signup();
    expect((await api('GET', '/users?query=r', { token: s.accessToken })).status).toBe(200);
    expect((await api('POST', '/auth/logout', { body: { refreshToken: s.refreshToken } })).status).toBe(204);
    // The function that revoked it knows at once; the others within the cache bound (30 s per environment).
    expect((await api('GET', '/me', { token: s.accessToken })).status).toBe(401);
    const refused = await waitFor(
      async () => {
        const res = await api('GET', '/users?query=r', { token: s.accessToken });
        return res.status === 401 ? res : undefined;
      },
      { timeoutMs: SESSION_CHECK_CACHE_MS + 10_000, intervalMs: 1_000, what: 'the directory to refuse' },
    );
    expect(refused.body.error.code).toBe('unauthorized');
  });
});

describe('refresh-token reuse', () => {
  it('revokes the session and closes its sockets', async () => {
    const s = await signup();
    const rotated = await api('POST', '/auth/refresh', { body: { refreshToken: s.refreshToken } });
    expect(rotated.status).toBe(200);
    const c = await open(rotated.body);

    // The old token again (a thief, or a replay): the whole session ends.
    const replay = await api('POST', '/auth/refresh', { body: { refreshToken: s.refreshToken } });
    expect(replay.status).toBe(401);

    await expectRevoked(c);
    const again = await api('POST', '/auth/refresh', { body: { refreshToken: rotated.body.refreshToken } });
    expect(again.status).toBe(401);
    expect((await api('POST', '/auth/ws-ticket', { token: rotated.body.accessToken })).status).toBe(401);
  });
});
