import { limits } from '#contracts/limits.ts';
import type { Presence } from '#contracts/models.ts';
import type { ConnectionRef, RemovedConnection } from '#core/ports.ts';
import { redis } from './client.ts';
import { connKey, connRateKey, EXPIRY_KEY, frameKeys, seenKey, userConnsKey } from './keys.ts';
import { runScript, script } from './script.ts';

/**
 * The connection registry and presence, in Redis.
 *
 * Keys (keys.ts; every MULTI and script below touches one key or keys of one hash tag, so each stays in one
 * slot of the cluster):
 * - `ws:conn:{cid}`          hash { userId, connectedAt, expiresAt, refreshedAt }: connection → user, and the
 *                             connection's expiry as of its last presence refresh. TTL = connection TTL + grace,
 *                             so the sweeper can still find the owner of a connection whose TTL lapsed.
 * - `ws:user:{uid}:conns`    sorted set connectionId → expiry (epoch ms): the user's connections. A connection
 *                             counts as live while its score is in the future; frames push it forward.
 * - `ws:user:{uid}:seen`     ISO time the user was last seen (written when they go offline).
 * - `ws:expiry`              sorted set connectionId → expiry: the sweeper's work list (single-key commands).
 * - `ws:rate:{cid}:…`        fixed-window counters (frames per second, typing per conversation).
 *
 * A connection's keys and its user's keys are in different slots: they are written by separate commands (run
 * concurrently, auto-pipelined), never by one transaction.
 *
 * Per frame (the WebSocket wrapper), ONE round trip: the FRAME script on the connection's tag returns the owner,
 * counts the frame in its rate window and says whether presence is due for a refresh. Presence (the user's set,
 * `ws:expiry`, the hash's TTL) is refreshed at most every `PRESENCE_REFRESH_MS` per connection, not on every
 * frame: the script records the refresh in the hash (`refreshedAt`, `expiresAt`) and the caller runs
 * `refreshPresence` alongside its own work (docs/adr/0007-send-path.md). A connection therefore lapses between
 * TTL − PRESENCE_REFRESH_MS and TTL after its last frame (14 min 55 s to 15 min), and `lastActiveAt` of a lapsed
 * connection is up to PRESENCE_REFRESH_MS earlier than its last frame.
 *
 * Presence is derived, not stored: a user is online while any of their connections is live. So presence is
 * right even when `$disconnect` never arrives and the sweeper has not run yet; the sweeper only tidies up and
 * tells contacts.
 */

const ttlMs = limits.connectionTtlSeconds * 1000;
/** How long the owner record outlives the TTL (for the sweeper). */
const graceMs = 24 * 3600 * 1000;
const seenTtlSeconds = 180 * 24 * 3600;
/**
 * A connection's presence (its user's set, `ws:expiry`, the hash's TTL) is refreshed at most this often, by the
 * first frame after the interval. Small against the TTL (15 min) and the idle timeout (10 min).
 */
export const PRESENCE_REFRESH_MS = 5_000;

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
      .hset(
        connKey(connectionId),
        'userId',
        userId,
        'connectedAt',
        String(now),
        'expiresAt',
        String(expiry),
        'refreshedAt',
        String(now),
      )
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
 * Claims one of the user's connection slots before `$connect` admits a socket (the cap, `connectionsPerUser`):
 * one script on the user's set drops lapsed entries, counts the live ones and, below the cap, adds this one
 * (as `addConnection` then does again: ZADD is idempotent). So concurrent connects cannot overshoot the cap.
 * Then the connection's hash records the session it belongs to (revoking the session closes it).
 * false: the user is at the cap; nothing was written.
 */
export async function reserveConnection(
  connectionId: string,
  userId: string,
  sessionId: string | null,
  cap: number,
  now: number = Date.now(),
): Promise<boolean> {
  const r = redis();
  const admitted = await runScript(
    r,
    RESERVE,
    [userConnsKey(userId)],
    [now, cap, now + ttlMs, connectionId, ttlMs + graceMs],
  );
  if (Number(admitted) !== 1) return false;
  if (sessionId) {
    const key = connKey(connectionId);
    await r
      .multi()
      .hset(key, 'sessionId', sessionId)
      .pexpire(key, ttlMs + graceMs)
      .exec();
  }
  return true;
}

/** KEYS[1] the user's set; ARGV: now, cap, expiry, connectionId, TTL (ms). 1 admitted (added), 0 at the cap. */
const RESERVE = script(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`);

/** The user's live connections that belong to one sign-in session (their hash names it). */
export async function connectionsOfSession(
  userId: string,
  sessionId: string,
  now: number = Date.now(),
): Promise<string[]> {
  const r = redis();
  const ids = await r.zrangebyscore(userConnsKey(userId), `(${now}`, '+inf');
  const sessions = await Promise.all(ids.map((id) => r.hget(connKey(id), 'sessionId')));
  return ids.filter((_, i) => sessions[i] === sessionId);
}

/** What the FRAME script says about one frame of a connection. */
export interface FrameAdmission {
  readonly userId: string;
  /** Frames counted in this connection's current one-second window, this one included. */
  readonly frames: number;
  /** This frame claimed the presence refresh: the caller runs `refreshPresence` (and awaits it eventually). */
  readonly refreshDue: boolean;
}

/**
 * One frame of a connection, in one round trip (the FRAME script, keys of the connection's tag): its owner,
 * the frame counted in the connection's one-second window, and whether presence is due for a refresh (at most
 * every `refreshEveryMs`; the script then moves the hash's `expiresAt` and TTL forward and records
 * `refreshedAt`, so concurrent frames do not all refresh). null: the connection is unknown (never registered,
 * removed, or its hash expired) or lapsed (its `expiresAt` passed); nothing is counted then.
 * `count: false` skips the rate counter.
 */
export async function admitFrame(
  connectionId: string,
  now: number = Date.now(),
  options: { refreshEveryMs?: number; count?: boolean } = {},
): Promise<FrameAdmission | null> {
  const [hash, rate] = frameKeys(connectionId, Math.floor(now / 1000));
  const keys = options.count === false ? [hash] : [hash, rate];
  const result = (await runScript(redis(), FRAME, keys, [
    now,
    options.refreshEveryMs ?? PRESENCE_REFRESH_MS,
    now + ttlMs,
    ttlMs + graceMs,
  ])) as [string, number, number] | null;
  if (!result) return null;
  return { userId: result[0], frames: Number(result[1]), refreshDue: Number(result[2]) === 1 };
}

/**
 * Pushes a live connection's expiry forward in its user's set, then in `ws:expiry` (XX: never re-adds a
 * connection the sweeper has just removed; only after the user's set said live, so the sweeper's list never
 * runs ahead of presence). Two round trips, both off the frame's critical path (the wrapper runs this beside
 * the route). false: the user's set no longer holds the connection as live (removed or lapsed meanwhile).
 */
export async function refreshPresence(
  connectionId: string,
  userId: string,
  now: number = Date.now(),
): Promise<boolean> {
  const r = redis();
  const expiry = now + ttlMs;
  const live = await runScript(
    r,
    REFRESH,
    [userConnsKey(userId)],
    [connectionId, now, expiry, ttlMs + graceMs],
  );
  if (Number(live) !== 1) return false;
  await r.zadd(EXPIRY_KEY, 'XX', expiry, connectionId);
  return true;
}

/**
 * The owner of a live connection, refreshing its presence now (whatever the refresh interval) without counting
 * a frame. null: the connection is unknown or its TTL lapsed. (Tests and tools; the wrapper uses admitFrame.)
 */
export async function touchConnection(
  connectionId: string,
  now: number = Date.now(),
): Promise<string | null> {
  const admitted = await admitFrame(connectionId, now, { refreshEveryMs: 0, count: false });
  if (!admitted) return null;
  return (await refreshPresence(connectionId, admitted.userId, now)) ? admitted.userId : null;
}

/**
 * KEYS[1] the connection's hash, KEYS[2] (optional) its frame counter for this second.
 * ARGV: now, refresh interval (ms), the new expiry (now + TTL), the hash's TTL (ms).
 * Returns nil (unknown or lapsed) or { userId, frames, refreshDue }. A hash without `expiresAt` (registered
 * before the field existed) is live and due: the refresh that follows asks the user's set.
 * Refresh is due when the last one is `interval` old, or `interval` in the future (a skewed clock).
 */
const FRAME = script(`
local f = redis.call('HMGET', KEYS[1], 'userId', 'expiresAt', 'refreshedAt')
if not f[1] then return false end
local now = tonumber(ARGV[1])
local expiresAt = tonumber(f[2])
if expiresAt and expiresAt <= now then return false end
local frames = 0
if KEYS[2] then
  frames = redis.call('INCR', KEYS[2])
  if frames == 1 then redis.call('PEXPIRE', KEYS[2], 2000) end
end
local interval = tonumber(ARGV[2])
local last = tonumber(f[3])
local due = 0
if (not expiresAt) or (not last) or now - last >= interval or last - now > interval then
  due = 1
  redis.call('HSET', KEYS[1], 'refreshedAt', ARGV[1], 'expiresAt', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return {f[1], frames, due}`);

/** Pushes a live connection's expiry forward in the user's set; a lapsed or removed one stays (returns 0). */
const REFRESH = script(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (not s) or tonumber(s) <= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`);

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
