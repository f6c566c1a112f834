/**
 * The per-frame script and the presence refresh (connections.ts) against the real Redis cluster: what one frame
 * learns in one round trip, when presence is due, and how a refresh treats connections that are gone.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { limits } from '#contracts/limits.ts';
import { closeRedis, redis } from './client.ts';
import {
  addConnection,
  admitFrame,
  lapsedConnections,
  PRESENCE_REFRESH_MS,
  presenceOf,
  refreshPresence,
  removeConnection,
} from './connections.ts';
import { connKey, EXPIRY_KEY, userConnsKey } from './keys.ts';

afterAll(() => closeRedis());

const id = (p: string) => `${p}-${randomBytes(6).toString('hex')}`;
const ttlMs = limits.connectionTtlSeconds * 1000;

describe('admitFrame (the FRAME script)', () => {
  it('returns the owner and counts frames per one-second window; nothing for an unknown connection', async () => {
    const [c, u] = [id('c'), id('u')];
    const t0 = Date.now();
    await addConnection(c, u, t0);
    const second = Math.floor(t0 / 1000) * 1000;
    const frames = [];
    for (let i = 0; i < 3; i++) frames.push((await admitFrame(c, second + 10 + i))?.frames);
    expect(frames).toEqual([1, 2, 3]);
    expect(await admitFrame(c, second + 1_000)).toMatchObject({ userId: u, frames: 1 });
    expect(await admitFrame(id('unknown'), t0)).toBeNull();
  });

  it('is due for a presence refresh only once the interval passed, and records it (concurrent frames: one)', async () => {
    const [c, u] = [id('c'), id('u')];
    const t0 = Date.now();
    await addConnection(c, u, t0);
    expect((await admitFrame(c, t0 + 1))?.refreshDue).toBe(false);
    expect((await admitFrame(c, t0 + PRESENCE_REFRESH_MS - 1))?.refreshDue).toBe(false);
    const later = t0 + PRESENCE_REFRESH_MS;
    const burst = await Promise.all(Array.from({ length: 5 }, () => admitFrame(c, later)));
    expect(burst.filter((a) => a?.refreshDue)).toHaveLength(1);
    const [refreshedAt, expiresAt] = await redis().hmget(connKey(c), 'refreshedAt', 'expiresAt');
    expect([Number(refreshedAt), Number(expiresAt)]).toEqual([later, later + ttlMs]);
    expect((await admitFrame(c, later + 1))?.refreshDue).toBe(false);
    // A clock far behind the one that refreshed does not block refreshes forever.
    expect((await admitFrame(c, later - 2 * PRESENCE_REFRESH_MS))?.refreshDue).toBe(true);
  });

  it('refuses a lapsed connection (its expiresAt passed) although the owner record outlives the TTL', async () => {
    const [c, u] = [id('c'), id('u')];
    const longAgo = Date.now() - ttlMs - 5_000;
    await addConnection(c, u, longAgo);
    expect(await redis().hget(connKey(c), 'userId')).toBe(u);
    expect(await admitFrame(c)).toBeNull();
  });

  it('treats a hash written before expiresAt existed as live and due', async () => {
    const [c, u] = [id('c'), id('u')];
    await addConnection(c, u);
    await redis().hdel(connKey(c), 'expiresAt', 'refreshedAt');
    expect(await admitFrame(c)).toMatchObject({ userId: u, refreshDue: true });
    expect(await redis().hget(connKey(c), 'expiresAt')).not.toBeNull();
  });
});

describe('refreshPresence', () => {
  it("pushes the connection's expiry forward in its user's set and on the sweeper's list", async () => {
    const [c, u] = [id('c'), id('u')];
    const t0 = Date.now() - 60_000;
    await addConnection(c, u, t0);
    const now = Date.now();
    expect(await refreshPresence(c, u, now)).toBe(true);
    expect(Number(await redis().zscore(userConnsKey(u), c))).toBe(now + ttlMs);
    expect(Number(await redis().zscore(EXPIRY_KEY, c))).toBe(now + ttlMs);
    expect(await presenceOf([u], now + ttlMs - 1)).toEqual([expect.objectContaining({ online: true })]);
  });

  it('says false for a removed or lapsed connection and never puts it back on the sweeper list', async () => {
    const [c, u] = [id('c'), id('u')];
    await addConnection(c, u);
    await removeConnection(c);
    expect(await refreshPresence(c, u)).toBe(false);
    expect(await redis().zscore(EXPIRY_KEY, c)).toBeNull();
    expect(await redis().zscore(userConnsKey(u), c)).toBeNull();

    const [l, v] = [id('c'), id('u')];
    const longAgo = Date.now() - ttlMs - 5_000;
    await addConnection(l, v, longAgo);
    expect(await refreshPresence(l, v)).toBe(false);
    // Still on the sweeper's list with its old expiry: the sweeper removes it and announces the user offline.
    expect(Number(await redis().zscore(EXPIRY_KEY, l))).toBe(longAgo + ttlMs);
    expect(await lapsedConnections(Date.now(), 100_000)).toContain(l);
    await removeConnection(l);
  });
});
