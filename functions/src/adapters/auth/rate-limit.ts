import { redis } from '#adapters/redis/client.ts';
import { loginKeys } from '#adapters/redis/keys.ts';

/**
 * Login rate limits in Redis: failed attempts counted per username and per client IP in fixed windows. An
 * attempt is counted before the password is checked (so a parallel flood cannot slip past the check) and
 * released again when it succeeds, so only failures use up the budget.
 *
 * Redis is a cluster (ElastiCache Serverless, and locally): the username budget and the IP budget live in two
 * hash slots (keys.ts), so each is its own single-slot transaction, both sent at once (one round trip).
 */
export const loginLimits = {
  windowSeconds: 15 * 60,
  /** Failed logins per username per window (guessing one account's password). */
  perUsername: 10,
  /** Failed logins per IP per window (spraying many accounts). */
  perIp: 200,
} as const;

export { loginKeys };

export interface LoginAttempt {
  /** False: over a limit; answer 429 without checking the password. */
  allowed: boolean;
  /** The attempt succeeded: give it back. */
  release(): Promise<void>;
}

export async function beginLoginAttempt(username: string, ip: string): Promise<LoginAttempt> {
  const keys = loginKeys(username, ip);
  const r = redis();
  const [userCount, ipCount] = await Promise.all([count(keys.user), count(keys.ip)]);
  const allowed = userCount <= loginLimits.perUsername && ipCount <= loginLimits.perIp;
  return {
    allowed,
    release: async () => {
      await Promise.all([r.decr(keys.user), r.decr(keys.ip)]);
    },
  };
}

/** Counts one attempt in a budget's window (created with its TTL by the first attempt): one key, one slot. */
async function count(key: string): Promise<number> {
  const res = await redis().multi().set(key, 0, 'EX', loginLimits.windowSeconds, 'NX').incr(key).exec();
  if (!res) throw new Error('Redis transaction aborted');
  const [error, value] = res[1] ?? [new Error('Redis transaction result missing'), null];
  if (error) throw error;
  return Number(value);
}
