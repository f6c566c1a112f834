import { redis } from '#adapters/redis/client.ts';
import { loginPairKey, rateKey } from '#adapters/redis/keys.ts';
import { runScript, script } from '#adapters/redis/script.ts';
import { loginBackoff, type RateLimitName } from '#contracts/limits.ts';
import { ChatError } from '#core/errors.ts';
import { config } from '#platform/config.ts';

/**
 * Per-person budgets in Redis (contracts/limits.ts, docs/protocol.md "Limits per person").
 *
 * A budget is a fixed-window counter: one key per limit and subject (`rl:<limit>:{<digest>}`, keys.ts), counted
 * by a single-key script (INCRBY, and PEXPIRE when the key has no TTL yet: a lost expiry can never make a
 * counter immortal). Each key is its own hash tag, so every command stays in one slot of the cluster
 * (ElastiCache Serverless) and two budgets are never touched by one command.
 *
 * Failed logins are not a window but a per (username, IP) pair backoff (`loginPairKey`): see `beginLogin`.
 */

export interface Consumed {
  allowed: boolean;
  /** Seconds until the window ends (the `Retry-After` of a refusal). */
  retryAfterSeconds: number;
}

/** KEYS[1] the counter; ARGV: cost, window (ms). Returns { count, ms left in the window }. */
const COUNT = script(`
local c = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {c, ttl}`);

/** Counts `cost` against a budget of `subject`; `allowed` is false once the window's count is over the limit. */
export async function consume(limit: RateLimitName, subject: string, cost = 1): Promise<Consumed> {
  const { count, windowSeconds } = config.rateLimit(limit);
  const [used, ttlMs] = (await runScript(
    redis(),
    COUNT,
    [rateKey(limit, subject)],
    [cost, windowSeconds * 1000],
  )) as [number, number];
  return { allowed: Number(used) <= count, retryAfterSeconds: Math.max(1, Math.ceil(Number(ttlMs) / 1000)) };
}

/** Gives `cost` back to a budget (an attempt that turned out not to count, e.g. a successful login). */
export async function release(limit: RateLimitName, subject: string, cost = 1): Promise<void> {
  await redis().decrby(rateKey(limit, subject), cost);
}

export const tooManyRequests = (retryAfterSeconds: number) =>
  new ChatError('too_many_requests', undefined, { retryAfterSeconds });

/** `consume`, throwing `too_many_requests` (429 with `Retry-After`) when over the limit. */
export async function enforce(limit: RateLimitName, subject: string, cost = 1): Promise<void> {
  const r = await consume(limit, subject, cost);
  if (!r.allowed) throw tooManyRequests(r.retryAfterSeconds);
}

/** A new group: one of the creator's group budget, and its members from their member-add budget. */
export async function limitGroupCreation(userId: string, members: number): Promise<void> {
  await enforce('groupCreatePerUser', userId);
  if (members > 0) await enforce('memberAddsPerUser', userId, members);
}

/**
 * KEYS[1] the pair's hash { f: failures, u: epoch ms before which the pair must wait }.
 * ARGV: now (ms), free failures, first delay (ms), max delay (ms), idle reset (ms), mode.
 * mode `begin`: returns the ms still to wait (refused, nothing counted), or 0: admitted, and counted as a
 * failure in advance (so a parallel flood cannot slip past the check; a success deletes the pair).
 * mode `failed`: the attempt did fail: its wait starts now (after the password work), not at its beginning.
 */
const LOGIN_PAIR = script(`
local now = tonumber(ARGV[1])
local f = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
local u = tonumber(redis.call('HGET', KEYS[1], 'u') or '0')
if ARGV[6] == 'begin' then
  if u > now then return u - now end
  f = f + 1
end
local free = tonumber(ARGV[2])
local delay = 0
if f > free then
  delay = math.min(tonumber(ARGV[3]) * (2 ^ (f - free - 1)), tonumber(ARGV[4]))
end
redis.call('HSET', KEYS[1], 'f', f, 'u', math.max(u, now + delay))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 0`);

const pairScript = (key: string, mode: 'begin' | 'failed', now: number) =>
  runScript(
    redis(),
    LOGIN_PAIR,
    [key],
    [
      now,
      loginBackoff.freeFailures,
      loginBackoff.firstDelaySeconds * 1000,
      loginBackoff.maxDelaySeconds * 1000,
      loginBackoff.resetAfterSeconds * 1000,
      mode,
    ],
  ).then(Number);

export interface LoginAttempt {
  /** False: refused before any password work (answer 429 with `retryAfterSeconds`). */
  allowed: boolean;
  retryAfterSeconds: number;
  /** The password was right: the pair starts over and the IP gets its failure back. */
  succeeded(): Promise<void>;
  /** The password was wrong: the pair's wait (if any) starts now. */
  failed(): Promise<void>;
}

/**
 * Before a login's password check: the client IP's attempt and failure budgets, and the (username, IP) pair's
 * backoff. The first `loginBackoff.freeFailures` failures of a pair are free; after that each failure doubles
 * the wait before the pair's next attempt (2 s, 4 s, 8 s … up to 5 min), counted from the failed answer. Only
 * this pair waits: the same username from another IP is untouched, so nobody can lock a victim out.
 */
export async function beginLogin(username: string, ip: string, now = Date.now()): Promise<LoginAttempt> {
  const pairKey = loginPairKey(username, ip);
  const [attempts, failures, waitMs] = await Promise.all([
    consume('loginPerIp', ip),
    consume('loginFailuresPerIp', ip),
    pairScript(pairKey, 'begin', now),
  ]);
  const refusals = [
    ...(attempts.allowed ? [] : [attempts.retryAfterSeconds]),
    ...(failures.allowed ? [] : [failures.retryAfterSeconds]),
    ...(waitMs > 0 ? [waitMs / 1000] : []),
  ];
  return {
    allowed: refusals.length === 0,
    retryAfterSeconds: Math.max(1, Math.ceil(Math.max(0, ...refusals))),
    succeeded: async () => {
      await Promise.all([redis().del(pairKey), release('loginFailuresPerIp', ip)]);
    },
    failed: async () => {
      await pairScript(pairKey, 'failed', Date.now());
    },
  };
}
