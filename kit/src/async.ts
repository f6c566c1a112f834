/**
 * Concurrency and waiting. There is no `sleep` here on purpose: use `setTimeout` from `node:timers/promises`
 * (it also takes an AbortSignal).
 */
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Map with at most `limit` calls in flight; results keep the input order. The first failure rejects the
 * whole call once every call already started has settled (no new item starts after a failure).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  let error: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (err) {
        if (!failed) error = err;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw error;
  return results;
}

export interface WaitForOptions {
  /** Give up after this long (required: every wait has a deadline). */
  readonly timeoutMs: number;
  /** Poll interval. @default 25 */
  readonly intervalMs?: number;
  /** Named in the timeout error. */
  readonly what?: string;
}

/**
 * Polls `probe` until it returns something other than `undefined`, `null` or `false`, and returns that; throws
 * when `timeoutMs` passes first (with the last error the probe threw, if any). The one way tests and scripts
 * wait for an observed condition instead of sleeping.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  { timeoutMs, intervalMs = 25, what = 'condition' }: WaitForOptions,
): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v as Exclude<T, undefined | null | false>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`, { cause: lastError });
    }
    await delay(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

/** Resolves with `promise`, or rejects after `ms` naming `what` (a deadline on a single await). */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
