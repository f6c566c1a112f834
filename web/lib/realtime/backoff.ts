export interface BackoffOptions {
  /** First delay's ceiling. */
  baseMs?: number;
  /** No delay is longer than this. */
  maxMs?: number;
  /** [0, 1) source, injectable for tests. */
  random?: () => number;
}

/**
 * Exponential backoff with "equal jitter": the ceiling doubles per attempt up to `maxMs`, and the delay is
 * half the ceiling plus a random part of the other half. Clients that dropped together (a deploy, a network
 * blip) spread out instead of reconnecting in lock step, and no delay is ever near zero.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const random = options.random ?? Math.random;
  const ceiling = Math.min(max, base * 2 ** Math.max(0, Math.min(attempt, 30)));
  const half = ceiling / 2;
  return Math.round(half + random() * half);
}
