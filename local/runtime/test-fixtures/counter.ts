/**
 * Test fixture: module state survives across invocations in one execution environment; `sleepMs` in the event
 * keeps the environment busy; `crash`/`throw`/`spin` misbehave on purpose.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';

let count = 0;
const loadedAt = Date.now();

interface CounterEvent {
  readonly sleepMs?: number;
  readonly throw?: string;
  readonly spin?: boolean;
  readonly exit?: number;
  readonly reject?: boolean;
  readonly big?: number;
  readonly hog?: boolean;
  /** Burn CPU for this many ms (wall clock). */
  readonly busyMs?: number;
}

interface LambdaContextLike {
  readonly functionName: string;
  readonly awsRequestId: string;
  readonly memoryLimitInMB: string;
  readonly invokedFunctionArn: string;
  getRemainingTimeInMillis(): number;
}

export const handler = async (event: CounterEvent, context: LambdaContextLike) => {
  count += 1;
  if (event.throw) throw new TypeError(event.throw);
  if (event.reject) void Promise.reject(new Error('nobody awaits me'));
  if (event.exit !== undefined) process.exit(event.exit);
  if (event.spin) for (;;) {}
  if (event.hog) {
    const hoard: unknown[][] = [];
    for (;;) hoard.push(Array.from({ length: 100_000 }, (_, i) => ({ i })));
  }
  if (event.busyMs) {
    const until = performance.now() + event.busyMs;
    while (performance.now() < until) {}
  }
  if (event.sleepMs) await delay(event.sleepMs);
  return {
    count,
    loadedAt,
    sandbox: `${process.pid}:${threadId}`,
    functionName: context.functionName,
    awsRequestId: context.awsRequestId,
    memoryLimitInMB: context.memoryLimitInMB,
    invokedFunctionArn: context.invokedFunctionArn,
    remainingMs: context.getRemainingTimeInMillis(),
    env: {
      AWS_REGION: process.env.AWS_REGION,
      AWS_LAMBDA_FUNCTION_NAME: process.env.AWS_LAMBDA_FUNCTION_NAME,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
      WS_MANAGEMENT_ENDPOINT: process.env.WS_MANAGEMENT_ENDPOINT,
      CUSTOM: process.env.CUSTOM,
    },
    big: event.big ? 'x'.repeat(event.big) : undefined,
  };
};
