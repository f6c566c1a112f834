/**
 * THE retry policy of pushes (PostToConnection), and the one place that decides what a failed push means.
 * The management API client (management-api.ts) makes exactly one attempt per call and reports what happened;
 * the push layer (push.ts) applies this policy.
 *
 * - 410 `GoneException`: the connection is gone: never retried, it is dropped from the registry.
 * - 429 `LimitExceededException`: the client is not reading (API Gateway's buffer for it is full): never
 *   retried, the rest of that connection's events are skipped (it catches up from history on reconnect).
 * - timeout, network error, 5xx: transient: that connection is tried again from the event that failed, after
 *   the policy's backoff, up to `attempts` tries, and never past the deadline.
 * - any other 4xx: permanent (retrying cannot help): counted as failed.
 *
 * The deadline bounds one push call as a whole (every connection, event and retry in it, requests in flight
 * included: they are aborted when it passes), well under the 60 s timeout of the functions that push.
 */

export interface PushRetryPolicy {
  /** Tries per event and connection, the first one included. */
  readonly attempts: number;
  /** Pause before each retry: `[before the 2nd try, before the 3rd, …]` (the last one repeats). */
  readonly backoffMs: readonly number[];
  /** Total time for one push call, retries included (requests still in flight then are aborted). */
  readonly deadlineMs: number;
}

/** The deadline of one push call: a sixth of the pushing functions' 60 s timeout (ADR 0005). */
export const PUSH_DEADLINE_MS = 10_000;

/**
 * The deadline of a whole Kafka batch's fan-out (persistFanout): every push of the batch, whatever the number
 * of conversations (pushed 8 at a time) and connections, ends by the batch start + this. A third of the
 * function's 60 s timeout, leaving the persist writes and the Kafka commit ample room.
 */
export const FANOUT_DEADLINE_MS = 20_000;

export const pushRetryPolicy: PushRetryPolicy = {
  attempts: 3,
  backoffMs: [300, 1_500],
  deadlineMs: PUSH_DEADLINE_MS,
};

export type PushFailure = 'gone' | 'slow' | 'transient' | 'permanent';

/** What a failed management API call means (its error as the client or the SDK reports it). */
export function classifyPushFailure(error: unknown): PushFailure {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const status = e?.$metadata?.httpStatusCode;
  if (e?.name === 'GoneException' || status === 410) return 'gone';
  if (e?.name === 'LimitExceededException' || status === 429) return 'slow';
  if (status === undefined || status >= 500) return 'transient';
  return 'permanent';
}

/**
 * The pause before another try after try number `attempt` (1-based) failed with `failure`, or null when there
 * is none: not transient, out of attempts, or the pause would reach the deadline (epoch ms).
 */
export function retryDelay(
  policy: PushRetryPolicy,
  failure: PushFailure,
  attempt: number,
  now: number,
  deadline: number,
): number | null {
  if (failure !== 'transient' || attempt >= policy.attempts) return null;
  const pause = policy.backoffMs[Math.min(attempt - 1, policy.backoffMs.length - 1)] ?? 0;
  return now + pause < deadline ? pause : null;
}
