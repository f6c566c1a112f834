import { createHash } from 'node:crypto';
import { limits } from '#contracts/limits.ts';
import type { Presence } from '#contracts/models.ts';
import type { ConnectionRef, RemovedConnection } from '#core/ports.ts';
import { redis } from './client.ts';
import { connKey, connRateKey, EXPIRY_KEY, seenKey, userConnsKey } from './keys.ts';

/**
 * The connection registry and presence, in Redis.
 *
 * Keys (keys.ts; every MULTI and script below touches one key or keys of one hash tag, so each stays in one
 * slot of the cluster):
 * - `ws:conn:{cid}`          hash { userId, connectedAt }: connection → user. TTL = connection TTL + grace, so
 *                             the sweeper can still find the owner of a connection whose TTL lapsed.
 * - `ws:user:{uid}:conns`    sorted set connectionId → expiry (epoch ms): the user's connections. A connection
 *                             counts as live while its score is in the future; every frame pushes it forward.
 * - `ws:user:{uid}:seen`     ISO time the user was last seen (written when they go offline).
 * - `ws:expiry`              sorted set connectionId → expiry: the sweeper's work list (single-key commands).
 * - `ws:rate:{cid}:…`        fixed-window counters (frames per second, typing per conversation).
 *
 * A connection's keys and its user's keys are in different slots: they are written by separate commands (run
 * concurrently, auto-pipelined), never by one transaction.
 *
 * Presence is derived, not stored: a user is online while any of their connections is live. So presence is
 * right even when `$disconnect` never arrives and the sweeper has not run yet; the sweeper only tidies up and
 * tells contacts.
 */

const ttlMs = limits.connectionTtlSeconds * 1000;
/** How long the owner record outlives the TTL (for the sweeper). */
const graceMs = 24 * 3600 * 1000;
const seenTtlSeconds = 180 * 24 * 3600;

export type { ConnectionRef, RemovedConnection };

/** Records a new connection. `firstConnection`: the user had no other live connection (they just came online). */
export async function addConnection(
  connectionId: string,
  userId: string,
  now: number = Date.now(),
): Promise<{ firstConnection: boolean }> {
  const r = redis();
  const expiry = now + ttlMs;
  const userKey = userConnsKey(userId);
  const [, userResult] = await Promise.all([
    r
      .multi()
      .hset(connKey(connectionId), 'userId', userId, 'connectedAt', String(now))
      .pexpire(connKey(connectionId), ttlMs + graceMs)
      .exec(),
    r
      .multi()
      .zremrangebyscore(userKey, '-inf', now)
      .zadd(userKey, expiry, connectionId)
      .pexpire(userKey, ttlMs + graceMs)
      .zcount(userKey, `(${now}`, '+inf')
      .exec(),
    r.zadd(EXPIRY_KEY, expiry, connectionId),
  ]);
  const live = Number(txResult(userResult, 3));
  return { firstConnection: live === 1 };
}

/**
 * The owner of a live connection, refreshing its TTL (any frame keeps a connection and its user's presence
 * alive). null: the connection is unknown or its TTL lapsed.
 */
export async function touchConnection(
  connectionId: string,
  now: number = Date.now(),
): Promise<string | null> {
  const r = redis();
  const userId = await r.hget(connKey(connectionId), 'userId');
  if (!userId) return null;
  const expiry = now + ttlMs;
  const [, refreshed] = await Promise.all([
    r.pexpire(connKey(connectionId), ttlMs + graceMs),
    refresh(r, userConnsKey(userId), connectionId, now, expiry, ttlMs + graceMs),
  ]);
  if (Number(refreshed) !== 1) return null;
  // XX: never re-add a connection the sweeper has just removed.
  await r.zadd(EXPIRY_KEY, 'XX', expiry, connectionId);
  return userId;
}

/** Runs REFRESH_SCRIPT by its SHA (EVALSHA), loading it once per connection when Redis does not know it. */
async function refresh(
  r: ReturnType<typeof redis>,
  key: string,
  ...args: (string | number)[]
): Promise<unknown> {
  try {
    return await r.evalsha(REFRESH_SHA, 1, key, ...args);
  } catch (error) {
    if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
    return r.eval(REFRESH_SCRIPT, 1, key, ...args);
  }
}

/** Pushes a live connection's expiry forward; a lapsed or removed one stays as it is (returns 0). */
const REFRESH_SCRIPT = `
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (not s) or tonumber(s) <= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;
const REFRESH_SHA = createHash('sha1').update(REFRESH_SCRIPT).digest('hex');

/** The owner of a connection without refreshing it (null when unknown). */
export async function connectionOwner(connectionId: string): Promise<string | null> {
  return redis().hget(connKey(connectionId), 'userId');
}

/**
 * Forgets a connection. null when it was not registered (already removed by `$disconnect`, a 410 or the
 * sweeper): only the caller that actually removed it learns `lastConnection`, so offline presence is
 * announced once. `onlyIfConnectedBefore`: keep a connection registered after that time (see push.ts).
 */
export async function removeConnection(
  connectionId: string,
  now: number = Date.now(),
  options: { onlyIfConnectedBefore?: number } = {},
): Promise<RemovedConnection | null> {
  const r = redis();
  const [userId, connectedAt] = await r.hmget(connKey(connectionId), 'userId', 'connectedAt');
  if (!userId) {
    await r.zrem(EXPIRY_KEY, connectionId);
    return null;
  }
  if (options.onlyIfConnectedBefore !== undefined && Number(connectedAt) > options.onlyIfConnectedBefore) {
    return null;
  }
  const userKey = userConnsKey(userId);
  const [userResult] = await Promise.all([
    r
      .multi()
      .zscore(userKey, connectionId)
      .zrem(userKey, connectionId)
      .zcount(userKey, `(${now}`, '+inf')
      .exec(),
    r.del(connKey(connectionId)),
    r.zrem(EXPIRY_KEY, connectionId),
  ]);
  const score = txResult(userResult, 0);
  const removed = Number(txResult(userResult, 1)) === 1;
  if (!removed) return null;
  const remaining = Number(txResult(userResult, 2));
  const expiry = score === null ? now : Number(score);
  return {
    connectionId,
    userId,
    lastConnection: remaining === 0,
    lastActiveAt: Math.min(now, expiry - ttlMs),
  };
}

/** Records when a user went offline (shown as `lastSeenAt`). */
export async function setLastSeen(userId: string, at: number): Promise<void> {
  await redis().set(seenKey(userId), new Date(at).toISOString(), 'EX', seenTtlSeconds);
}

/** Live connections of the given users. */
export async function connectionsOf(
  userIds: readonly string[],
  now: number = Date.now(),
): Promise<ConnectionRef[]> {
  const r = redis();
  const unique = [...new Set(userIds)];
  const lists = await Promise.all(unique.map((u) => r.zrangebyscore(userConnsKey(u), `(${now}`, '+inf')));
  return unique.flatMap((userId, i) => (lists[i] ?? []).map((connectionId) => ({ connectionId, userId })));
}

/** Presence of the given users, in the order given. An online user's `lastSeenAt` is null. */
export async function presenceOf(userIds: readonly string[], now: number = Date.now()): Promise<Presence[]> {
  const r = redis();
  return Promise.all(
    userIds.map(async (userId) => {
      const [live, seen] = await Promise.all([
        r.zcount(userConnsKey(userId), `(${now}`, '+inf'),
        r.get(seenKey(userId)),
      ]);
      return live > 0
        ? { userId, online: true, lastSeenAt: null }
        : { userId, online: false, lastSeenAt: seen ?? null };
    }),
  );
}

/** Connections whose TTL lapsed at or before `now`, oldest first (the sweeper's work list). */
export async function lapsedConnections(now: number = Date.now(), limit = 500): Promise<string[]> {
  return redis().zrangebyscore(EXPIRY_KEY, '-inf', now, 'LIMIT', 0, limit);
}

/**
 * Counts one event in a fixed one-second window and says whether it stays within `perSecond`.
 * `scope` distinguishes counters of one connection (e.g. `frames`, `typing:<conversationId>`).
 */
export async function withinRate(
  connectionId: string,
  scope: string,
  perSecond: number,
  now: number = Date.now(),
): Promise<boolean> {
  const key = connRateKey(connectionId, scope, Math.floor(now / 1000));
  const result = await redis().multi().incr(key).expire(key, 2).exec();
  return Number(txResult(result, 0)) <= perSecond;
}

/** The value of one command of a MULTI; throws the command's own error (or a failed transaction). */
function txResult(result: [Error | null, unknown][] | null, index: number): unknown {
  if (!result) throw new Error('Redis transaction aborted');
  const entry = result[index];
  if (!entry) throw new Error(`Redis transaction result ${index} missing`);
  if (entry[0]) throw entry[0];
  return entry[1];
}
