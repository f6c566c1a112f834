import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor } from '@chat/kit/async';
import { type LocalRuntime, startLocalRuntime } from '@chat/local/runtime';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCql } from '#adapters/cql/client.ts';
import { persistMessages } from '#adapters/cql/messages.ts';
import { closeRedis, redis } from '#adapters/redis/client.ts';
import { consumeTicket } from '#adapters/redis/tickets.ts';
import { limits } from '#contracts/limits.ts';
import type { Message } from '#contracts/models.ts';
import { BUCKET_MS, bucketOf, newId } from '#core/ids.ts';
import { config } from '#platform/config.ts';
import { forgedTokens } from './support/forged-tokens.ts';
import { type Api, httpApi } from './support/http-api.ts';

// The HTTP API over real HTTP: the unchanged handlers behind the local API Gateway emulator (ephemeral port),
// over the real services (Cassandra, Redis). The database is shared and persists: every username carries this
// run's random suffix.
const run = randomBytes(3).toString('hex');
const uname = (n: string) => `h${run}${n}`;
const password = 'correct horse battery staple';

let api: Api;
let rt: LocalRuntime;
const logs: string[] = [];

interface Session {
  user: { id: string; username: string; displayName: string };
  accessToken: string;
  refreshToken: string;
}

async function signup(n: string, displayName?: string): Promise<Session> {
  const res = await api('POST', '/auth/signup', {
    body: { username: uname(n), password, ...(displayName ? { displayName } : {}) },
  });
  expect(res.status).toBe(201);
  return res.body;
}

const msg = (conversationId: string, senderId: string, at: number, i: number): Message => ({
  id: ulid(at), // not the monotonic factory: it would keep the newest time it has seen
  conversationId,
  senderId,
  clientMsgId: `c-${run}-${i}`,
  body: `message ${i}`,
  sentAt: new Date(at).toISOString(),
});

let alice: Session;
let bob: Session;
let carol: Session;
let early: { ticket: string; issuedAt: number };

beforeAll(async () => {
  rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    functions: ['httpAuth', 'httpConversations', 'httpDirectory'],
    env: { JWT_KEYS_FILE: resolve(config.jwtKeysFile()) },
    kafka: false,
    schedules: false,
    log: (source, line) => logs.push(`[${source}] ${line}`),
  });
  // This file reads and writes the runtime's Redis keys: under its deployment's prefix (docs/local-runtime.md).
  process.env.REDIS_KEY_PREFIX = rt.env.REDIS_KEY_PREFIX;
  api = httpApi(rt.httpUrl);
  [alice, bob, carol] = await Promise.all([signup('alice', 'Alice A.'), signup('bob'), signup('carol')]);
  // A ticket left unused, to check at the end that it expired.
  const t = await api('POST', '/auth/ws-ticket', { token: alice.accessToken });
  early = { ticket: t.body.ticket, issuedAt: Date.now() };
}, 120_000);

afterAll(async () => {
  await rt?.stop();
  await Promise.all([closeCql(), closeRedis()]);
  mkdirSync('.local/test-logs', { recursive: true });
  writeFileSync('.local/test-logs/http-api.log', `${logs.join('\n')}\n`);
}, 60_000);

describe('sign-up and login', () => {
  it('signs up with tokens and the user; GET /me answers the user', async () => {
    expect(alice.user).toEqual({ id: alice.user.id, username: uname('alice'), displayName: 'Alice A.' });
    expect(bob.user.displayName).toBe(uname('bob'));
    const me = await api('GET', '/me', { token: alice.accessToken });
    expect(me.status).toBe(200);
    expect(me.headers['content-type']).toBe('application/json');
    expect(me.body).toEqual(alice.user);
  });

  it('logs in with the right password; the same 401 for a wrong password and an unknown user', async () => {
    const good = await api('POST', '/auth/login', { body: { username: uname('bob'), password } });
    const wrong = await api('POST', '/auth/login', {
      body: { username: uname('bob'), password: 'nope-nope-nope' },
    });
    const unknown = await api('POST', '/auth/login', { body: { username: uname('nobody'), password } });
    expect(good.status).toBe(200);
    expect(good.body.user).toEqual(bob.user);
    expect(typeof good.body.accessToken).toBe('string');
    expect(Date.parse(good.body.expiresAt)).toBeGreaterThan(Date.now());
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error.code).toBe('invalid_credentials');
  });

  it('refuses a taken username with 409', async () => {
    const res = await api('POST', '/auth/signup', { body: { username: uname('alice'), password } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('username_taken');
  });

  it('refuses invalid usernames and passwords with 400 validation_failed and field details', async () => {
    const bad = [
      { username: 'AB', password },
      { username: `H${run}upper`, password },
      { username: `h${run}-dash`, password },
      { username: 'x'.repeat(33), password },
      { username: uname('short'), password: 'seven77' },
      { username: uname('long'), password: 'p'.repeat(129) },
      { username: uname('nopass') },
      { password },
    ];
    for (const body of bad) {
      const res = await api('POST', '/auth/signup', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details[0].path).toMatch(/^body\.(username|password)$/);
    }
  });

  it('answers malformed JSON with 400 invalid_json_body and an oversized body with 413', async () => {
    const malformed = await api('POST', '/auth/signup', { rawBody: '{"username": "abc",' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('invalid_json_body');
    const big = await api('POST', '/auth/signup', {
      rawBody: JSON.stringify({
        username: uname('big'),
        password,
        displayName: 'x'.repeat(limits.httpBodyMaxBytes),
      }),
    });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
  });
});

describe('routing', () => {
  it('answers an unknown route with 404 JSON (API Gateway answers it: no function runs)', async () => {
    const res = await api('GET', '/nowhere', { token: alice.accessToken });
    expect(res.status).toBe(404);
    expect(typeof res.body).toBe('object');
  });
});

describe('tokens', () => {
  it('refuses every forged or broken access token with 401 (JWT attack suite)', async () => {
    const forged = await forgedTokens(alice.user.id);
    expect(Object.keys(forged).length).toBeGreaterThanOrEqual(10);
    for (const [attack, token] of Object.entries(forged)) {
      const res = await api('GET', '/me', { token });
      expect(res.status, attack).toBe(401);
      expect(res.body.error.code, attack).toBe('unauthorized');
    }
    const noBearer: Record<string, string>[] = [
      {},
      { authorization: 'Basic abc' },
      { authorization: 'Bearer' },
    ];
    for (const headers of noBearer) {
      const res = await api('GET', '/conversations', { headers });
      expect(res.status).toBe(401);
    }
  });

  it('rotates refresh tokens; reusing a rotated one revokes the whole session', async () => {
    const login = await api('POST', '/auth/login', { body: { username: uname('carol'), password } });
    const first = login.body.refreshToken as string;
    const r1 = await api('POST', '/auth/refresh', { body: { refreshToken: first } });
    expect(r1.status).toBe(200);
    expect(r1.body.user).toEqual(carol.user);
    expect(r1.body.refreshToken).not.toBe(first);
    const second = r1.body.refreshToken as string;
    expect((await api('GET', '/me', { token: r1.body.accessToken })).status).toBe(200);
    // Act: the rotated token comes back (a thief, or a replay)
    const replay = await api('POST', '/auth/refresh', { body: { refreshToken: first } });
    const afterReplay = await api('POST', '/auth/refresh', { body: { refreshToken: second } });
    // Assert
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('invalid_refresh_token');
    expect(afterReplay.status).toBe(401);
    // other sessions of the same user live on
    expect((await api('POST', '/auth/refresh', { body: { refreshToken: carol.refreshToken } })).status).toBe(
      200,
    );
    expect((await api('POST', '/auth/refresh', { body: { refreshToken: 'made-up' } })).status).toBe(401);
  });

  it('logout revokes the session: its refresh token no longer works', async () => {
    const login = await api('POST', '/auth/login', { body: { username: uname('bob'), password } });
    const out = await api('POST', '/auth/logout', { body: { refreshToken: login.body.refreshToken } });
    expect(out.status).toBe(204);
    expect(out.body).toBeNull();
    const again = await api('POST', '/auth/refresh', { body: { refreshToken: login.body.refreshToken } });
    expect(again.status).toBe(401);
    expect((await api('POST', '/auth/logout', { body: { refreshToken: 'unknown' } })).status).toBe(204);
  });

  it('issues single-use WebSocket tickets bound to the user and their session', async () => {
    const res = await api('POST', '/auth/ws-ticket', { token: bob.accessToken });
    expect(res.status).toBe(200);
    const ttl = Date.parse(res.body.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(20_000);
    expect(ttl).toBeLessThanOrEqual(limits.wsTicketTtlSeconds * 1000);
    expect(await consumeTicket(res.body.ticket)).toEqual({
      userId: bob.user.id,
      sessionId: expect.any(String),
    });
    expect(await consumeTicket(res.body.ticket)).toBeNull();
    expect((await api('POST', '/auth/ws-ticket')).status).toBe(401);
  });
});

describe('conversations', () => {
  it('creates one DM per pair (201, then 200 with the same id from either side)', async () => {
    const first = await api('POST', '/conversations', {
      token: alice.accessToken,
      body: { type: 'dm', peerId: bob.user.id },
    });
    const again = await api('POST', '/conversations', {
      token: alice.accessToken,
      body: { type: 'dm', peerId: bob.user.id },
    });
    const reverse = await api('POST', '/conversations', {
      token: bob.accessToken,
      body: { type: 'dm', peerId: alice.user.id },
    });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(reverse.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(reverse.body.id).toBe(first.body.id);
    expect(first.body.members.map((m: { id: string }) => m.id).sort()).toEqual(
      [alice.user.id, bob.user.id].sort(),
    );
    const self = await api('POST', '/conversations', {
      token: alice.accessToken,
      body: { type: 'dm', peerId: alice.user.id },
    });
    expect(self.status).toBe(400);
    const bad = await api('POST', '/conversations', { token: alice.accessToken, body: { type: 'channel' } });
    expect(bad.status).toBe(400);
  });

  it('pages history both ways across buckets, marks read, counts unread, lists receipts', async () => {
    // Arrange: a DM with 12 messages spread over three 10-day buckets, stored by the persist path
    const dm = await api('POST', '/conversations', {
      token: carol.accessToken,
      body: { type: 'dm', peerId: bob.user.id },
    });
    const id = dm.body.id as string;
    // (the newest one sent now, so this DM is the most recently active)
    const now = Date.now();
    const sent: Message[] = [];
    for (let i = 0; i < 12; i++) {
      const at = now - (11 - i) * 1000 - (2 - Math.floor(i / 4)) * BUCKET_MS;
      // All carol's: persist moves a sender's own read pointer to their last message, so bob has read nothing.
      sent.push(msg(id, carol.user.id, at, i));
    }
    await persistMessages(id, sent);
    const ids = sent.map((m) => m.id);
    expect(new Set(ids.map(bucketOf)).size).toBe(3);

    // Act + assert: paging back (newest first) by 5
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&before=${cursor}` : '';
      const page = await api('GET', `/conversations/${id}/messages?limit=5${q}`, { token: bob.accessToken });
      expect(page.status).toBe(200);
      expect(page.body.messages.length).toBeLessThanOrEqual(5);
      seen.push(...page.body.messages.map((m: Message) => m.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    // filling forward (oldest first) from the 3rd message
    const fwd: string[] = [];
    cursor = ids[2] ?? null;
    while (cursor) {
      const page = await api('GET', `/conversations/${id}/messages?after=${cursor}&limit=4`, {
        token: carol.accessToken,
      });
      fwd.push(...page.body.messages.map((m: Message) => m.id));
      cursor = page.body.nextCursor;
    }
    expect(fwd).toEqual(ids.slice(3));
    const over = await api('GET', `/conversations/${id}/messages?limit=101`, { token: bob.accessToken });
    expect(over.status).toBe(400);

    // unread counts and read pointers
    const listBefore = await api('GET', '/conversations', { token: bob.accessToken });
    const convBefore = listBefore.body.conversations.find((c: { id: string }) => c.id === id);
    expect(convBefore.unreadCount).toBe(12);
    expect(convBefore.lastMessage.id).toBe(ids[11]);
    expect(listBefore.body.conversations[0].id).toBe(convBefore.id);

    const read = await api('POST', `/conversations/${id}/read`, {
      token: bob.accessToken,
      body: { messageId: ids[8] },
    });
    expect(read.status).toBe(204);
    const backward = await api('POST', `/conversations/${id}/read`, {
      token: bob.accessToken,
      body: { messageId: ids[3] },
    });
    expect(backward.status).toBe(204);
    const after = await api('GET', `/conversations/${id}`, { token: bob.accessToken });
    expect(after.body.unreadCount).toBe(3);
    expect(after.body.lastReadId).toBe(ids[8]);
    const carolView = await api('GET', `/conversations/${id}`, { token: carol.accessToken });
    expect(carolView.body.unreadCount).toBe(0);

    const receipts = await api('GET', `/conversations/${id}/receipts`, { token: carol.accessToken });
    expect(receipts.status).toBe(200);
    const byUser = (a: { userId: string }, b: { userId: string }) => a.userId.localeCompare(b.userId);
    expect([...receipts.body.receipts].sort(byUser)).toEqual(
      [
        { userId: bob.user.id, lastReadId: ids[8], readAt: expect.any(String) },
        { userId: carol.user.id, lastReadId: ids[11], readAt: expect.any(String) },
      ].sort(byUser),
    );
    const unknownMsg = await api('POST', `/conversations/${id}/read`, {
      token: bob.accessToken,
      body: { messageId: newId() },
    });
    expect(unknownMsg.status).toBe(404);
  });

  it('IDOR: a non-member gets 404 on every conversation route (and so does an unknown id)', async () => {
    const dm = await api('POST', '/conversations', {
      token: alice.accessToken,
      body: { type: 'dm', peerId: bob.user.id },
    });
    const id = dm.body.id as string;
    for (const target of [id, `nope${run}`]) {
      const calls = [
        api('GET', `/conversations/${target}`, { token: carol.accessToken }),
        api('GET', `/conversations/${target}/messages`, { token: carol.accessToken }),
        api('GET', `/conversations/${target}/messages?before=${newId()}`, { token: carol.accessToken }),
        api('POST', `/conversations/${target}/read`, {
          token: carol.accessToken,
          body: { messageId: newId() },
        }),
        api('GET', `/conversations/${target}/receipts`, { token: carol.accessToken }),
        api('POST', `/conversations/${target}/members`, {
          token: carol.accessToken,
          body: { memberIds: [carol.user.id] },
        }),
      ];
      for (const res of await Promise.all(calls)) {
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('not_found');
      }
    }
    const list = await api('GET', '/conversations', { token: carol.accessToken });
    expect(list.body.conversations.map((c: { id: string }) => c.id)).not.toContain(id);
  });

  it('creates groups; only the creator adds members; unknown users and strangers are refused', async () => {
    // consent (docs/adr/0012): a group takes only people who share a conversation with the adder
    for (const peer of [bob, carol]) {
      await api('POST', '/conversations', {
        token: alice.accessToken,
        body: { type: 'dm', peerId: peer.user.id },
      });
    }
    const g = await api('POST', '/conversations', {
      token: alice.accessToken,
      body: { type: 'group', title: 'Planning', memberIds: [bob.user.id] },
    });
    expect(g.status).toBe(201);
    expect(g.body.title).toBe('Planning');
    const byBob = await api('POST', `/conversations/${g.body.id}/members`, {
      token: bob.accessToken,
      body: { memberIds: [carol.user.id] },
    });
    expect(byBob.status).toBe(403);
    const byAlice = await api('POST', `/conversations/${g.body.id}/members`, {
      token: alice.accessToken,
      body: { memberIds: [carol.user.id] },
    });
    expect(byAlice.status).toBe(200);
    expect(byAlice.body.memberCount).toBe(3);
    expect((await api('GET', `/conversations/${g.body.id}`, { token: carol.accessToken })).status).toBe(200);
    const ghost = await api('POST', '/conversations', {
      token: alice.accessToken,
      body: { type: 'group', title: 'Ghosts', memberIds: [`ghost${run}`] },
    });
    // an unknown id is nobody's contact: refused by the consent check, which reveals nothing about existence
    expect(ghost.status).toBe(403);
    const tooMany = await api('POST', '/conversations', {
      token: alice.accessToken,
      body: {
        type: 'group',
        title: 'Big',
        memberIds: Array.from({ length: limits.groupMaxMembers }, (_, i) => `u${i}`),
      },
    });
    expect(tooMany.status).toBe(400);
  });
});

describe('directory and presence', () => {
  it('finds users by username prefix with online flags', async () => {
    const res = await api('GET', `/users?query=h${run}`, { token: bob.accessToken });
    expect(res.status).toBe(200);
    const names = res.body.users.map((u: { username: string }) => u.username);
    expect(names).toEqual([...names].sort());
    expect(names).toContain(uname('alice'));
    const a = res.body.users.find((u: { username: string }) => u.username === uname('alice'));
    expect(a).toEqual({ ...alice.user, online: false });
    const none = await api('GET', '/users?query=', { token: bob.accessToken });
    expect(none.body.users).toEqual([]);
  });

  it('answers a presence snapshot for at most 100 ids', async () => {
    const res = await api('GET', `/presence?userIds=${alice.user.id},${bob.user.id}`, {
      token: carol.accessToken,
    });
    expect(res.status).toBe(200);
    expect(res.body.presence).toEqual([
      { userId: alice.user.id, online: false, lastSeenAt: null },
      { userId: bob.user.id, online: false, lastSeenAt: null },
    ]);
    const many = Array.from({ length: 101 }, (_, i) => `u${i}`).join(',');
    expect((await api('GET', `/presence?userIds=${many}`, { token: carol.accessToken })).status).toBe(400);
    expect((await api('GET', '/presence', { token: carol.accessToken })).status).toBe(400);
  });
});

describe('ticket expiry', () => {
  it('an unused ticket expires after about 30 s', async () => {
    // Redis drops the (hashed) ticket by its TTL: poll for that, not for a fixed time; then it is refused.
    const key = `ws:ticket:${createHash('sha256').update(early.ticket).digest('base64url')}`;
    await waitFor(async () => (await redis().exists(key)) === 0, {
      timeoutMs: (limits.wsTicketTtlSeconds + 10) * 1000,
      intervalMs: 250,
      what: 'the ticket to expire',
    });
    expect(Date.now() - early.issuedAt).toBeGreaterThanOrEqual((limits.wsTicketTtlSeconds - 1) * 1000);
    expect(await consumeTicket(early.ticket)).toBeNull();
  }, 45_000);
});
