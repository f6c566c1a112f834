/**
 * The running invocation's time budget. Lambda runs one invocation at a time in an execution environment (and
 * so does the local runtime), so the transport wrappers record it here when an invocation starts and code that
 * waits on the network (pushes) ends before the function's own timeout, whatever that timeout is.
 */

export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
}

/** Time kept back for the work after the last wait (answering, logging): a fifth of the budget, at least 0.5 s. */
const margin = (remainingMs: number): number => Math.max(500, remainingMs * 0.2);

let deadline = Number.POSITIVE_INFINITY;

/** Called by every transport wrapper when an invocation starts; without a context there is no budget. */
export function beginInvocation(context: LambdaContextLike | undefined): void {
  const remaining = context?.getRemainingTimeInMillis?.();
  deadline =
    remaining === undefined || !Number.isFinite(remaining)
      ? Number.POSITIVE_INFINITY
      : Date.now() + Math.floor(remaining - margin(remaining));
}

/** Epoch ms by which the invocation's waits must end (Infinity outside an invocation). */
export const invocationDeadline = (): number => deadline;
