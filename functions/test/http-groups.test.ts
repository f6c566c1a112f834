import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { type LocalRuntime, startLocalRuntime } from '@chat/local/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCql } from '#adapters/cql/client.ts';
import { closeRedis } from '#adapters/redis/client.ts';
import { limits } from '#contracts/limits.ts';
import { config } from '#platform/config.ts';
import { type Api, httpApi } from './support/http-api.ts';

// Group consent, the member cap and paging (docs/adr/0012-group-consent-and-paging.md), over real HTTP: the
// handlers behind the local API Gateway emulator over the real Cassandra and Redis. Unique names per run.
const run = randomBytes(3).toString('hex');
const password = 'correct horse battery staple';

let api: Api;
let rt: LocalRuntime;

interface Session {
  user: { id: string; username: string; displayName: string };
  accessToken: string;
}

async function signup(n: string): Promise<Session> {
  const res = await api('POST', '/auth/signup', { body: { username: `gr${run}${n}`, password } });
  expect(res.status).toBe(201);
  return res.body;
}

const create = (s: Session, body: unknown) => api('POST', '/conversations', { token: s.accessToken, body });

let ann: Session;
let ben: Session;
let cat: Session;
let dan: Session;

beforeAll(async () => {
  rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    functions: ['httpAuth', 'httpConversations'],
    env: { JWT_KEYS_FILE: resolve(config.jwtKeysFile()) },
    kafka: false,
    schedules: false,
  });
  api = httpApi(rt.httpUrl);
  [ann, ben, cat, dan] = await Promise.all([signup('ann'), signup('ben'), signup('cat'), signup('dan')]);
}, 120_000);

afterAll(async () => {
  await rt?.stop();
  await Promise.all([closeCql(), closeRedis()]);
});

describe('consent: groups take only people who share a conversation with the adder', () => {
  it('refuses strangers with 403 (create and add), accepts them after a DM; DMs stay open to anyone', async () => {
    const stranger = await create(ann, { type: 'group', title: 'Spam', memberIds: [ben.user.id] });
    expect(stranger.status).toBe(403);
    expect(stranger.body.error.code).toBe('forbidden');
    expect(stranger.body.error.message).toContain(ben.user.id);
    // nothing was created for ben
    const bens = await api('GET', '/conversations', { token: ben.accessToken });
    expect(bens.body.conversations).toEqual([]);

    expect((await create(ann, { type: 'dm', peerId: ben.user.id })).status).toBe(201);
    const g = await create(ann, { type: 'group', title: 'Friends', memberIds: [ben.user.id] });
    expect(g.status).toBe(201);
    expect(g.body.memberCount).toBe(2);

    const addCat = () =>
      api('POST', `/conversations/${g.body.id}/members`, {
        token: ann.accessToken,
        body: { memberIds: [cat.user.id] },
      });
    expect((await addCat()).status).toBe(403);
    // cat and ann meet in a group of ben's: sharing any conversation is enough
    expect((await create(ben, { type: 'dm', peerId: cat.user.id })).status).toBe(201);
    expect(
      (await create(ben, { type: 'group', title: 'Via Ben', memberIds: [ann.user.id, cat.user.id] })).status,
    ).toBe(201);
    const added = await addCat();
    expect(added.status).toBe(200);
    expect(added.body.memberCount).toBe(3);
  });

  it('caps a group at the documented size: a longer member list is a 400', async () => {
    const ids = Array.from({ length: limits.groupMaxMembers }, (_, i) => `u${i}`);
    const res = await create(ann, { type: 'group', title: 'Huge', memberIds: ids });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    const add = await api('POST', `/conversations/nope${run}/members`, {
      token: ann.accessToken,
      body: { memberIds: ids },
    });
    expect(add.status).toBe(400);
  });
});

describe('paging', () => {
  it('pages GET /conversations most recent first with nextCursor, and validates limit and cursor', async () => {
    for (const peer of [ben, cat, ann]) await create(dan, { type: 'dm', peerId: peer.user.id });
    const all = await api('GET', '/conversations', { token: dan.accessToken });
    expect(all.status).toBe(200);
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.conversations).toHaveLength(3);
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const page = await api('GET', `/conversations${q}`, { token: dan.accessToken });
      expect(page.status).toBe(200);
      ids.push(...page.body.conversations.map((c: { id: string }) => c.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(ids).toEqual(all.body.conversations.map((c: { id: string }) => c.id));
    for (const q of ['?limit=0', `?limit=${limits.conversationsPageMax + 1}`, '?cursor=garbage']) {
      const bad = await api('GET', `/conversations${q}`, { token: dan.accessToken });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('validation_failed');
    }
  });

  it('pages GET /conversations/{id}/members for members only', async () => {
    const g = await create(ben, { type: 'group', title: 'Members', memberIds: [ann.user.id, cat.user.id] });
    expect(g.status).toBe(201);
    const first = await api('GET', `/conversations/${g.body.id}/members?limit=2`, { token: cat.accessToken });
    expect(first.status).toBe(200);
    expect(first.body.members).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await api(
      'GET',
      `/conversations/${g.body.id}/members?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      { token: cat.accessToken },
    );
    expect(rest.body.nextCursor).toBeNull();
    const names = [...first.body.members, ...rest.body.members].map((m: { username: string }) => m.username);
    expect(names.sort()).toEqual([ann, ben, cat].map((s) => s.user.username).sort());
    const outsider = await api('GET', `/conversations/${g.body.id}/members`, { token: dan.accessToken });
    expect(outsider.status).toBe(404);
    const tooBig = await api(
      'GET',
      `/conversations/${g.body.id}/members?limit=${limits.membersPageMax + 1}`,
      {
        token: cat.accessToken,
      },
    );
    expect(tooBig.status).toBe(400);
  });
});
