import { createHash } from 'node:crypto';
import { redis } from '#adapters/redis/client.ts';

/**
 * Login rate limits in Redis: failed attempts counted per username and per client IP in fixed windows. An
 * attempt is counted before the password is checked (so a parallel flood cannot slip past the check) and
 * released again when it succeeds, so only failures use up the budget.
 */
export const loginLimits = {
  windowSeconds: 15 * 60,
  /** Failed logins per username per window (guessing one account's password). */
  perUsername: 10,
  /** Failed logins per IP per window (spraying many accounts). */
  perIp: 200,
} as const;

const digest = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 22);
export const loginKeys = (username: string, ip: string) => ({
  user: `rl:login:u:${digest(username.toLowerCase())}`,
  ip: `rl:login:ip:${digest(ip)}`,
});

export interface LoginAttempt {
  /** False: over a limit; answer 429 without checking the password. */
  allowed: boolean;
  /** The attempt succeeded: give it back. */
  release(): Promise<void>;
}

export async function beginLoginAttempt(username: string, ip: string): Promise<LoginAttempt> {
  const keys = loginKeys(username, ip);
  const r = redis();
  const res = await r
    .multi()
    .set(keys.user, 0, 'EX', loginLimits.windowSeconds, 'NX')
    .incr(keys.user)
    .set(keys.ip, 0, 'EX', loginLimits.windowSeconds, 'NX')
    .incr(keys.ip)
    .exec();
  const userCount = Number(res?.[1]?.[1] ?? 0);
  const ipCount = Number(res?.[3]?.[1] ?? 0);
  const allowed = userCount <= loginLimits.perUsername && ipCount <= loginLimits.perIp;
  return {
    allowed,
    release: async () => {
      await r.multi().decr(keys.user).decr(keys.ip).exec();
    },
  };
}
