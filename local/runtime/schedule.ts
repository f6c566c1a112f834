/**
 * Scheduled functions (EventBridge rules on AWS): every N seconds, an asynchronous invocation with an
 * EventBridge `Scheduled Event`. Like Lambda's asynchronous invocation, a failed run is retried twice.
 */

import { randomUUID } from 'node:crypto';
import { setTimeout as pause } from 'node:timers/promises';
import type { InvocationResult, LambdaService } from './lambda/service.ts';

export interface ScheduleConfig {
  readonly fn: string;
  readonly everySeconds: number;
}

export interface SchedulerOptions {
  readonly lambda: LambdaService;
  readonly schedules: readonly ScheduleConfig[];
  readonly region: string;
  readonly accountId: string;
  /** Overrides every schedule's period locally (seconds). */
  readonly everySecondsOverride: number | undefined;
  /** Delays of the two asynchronous-invocation retries (AWS: about 1 and 2 minutes). */
  readonly retryDelaysMs: readonly number[];
  readonly log: (source: string, line: string) => void;
}

/** The event EventBridge sends for a scheduled rule. */
export const scheduledEvent = (fn: string, region: string, accountId: string, now = Date.now()) => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: accountId,
  time: new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
  region,
  resources: [`arn:aws:events:${region}:${accountId}:rule/${fn}-schedule`],
  detail: {},
});

export class Scheduler {
  readonly #opts: SchedulerOptions;
  readonly #timers: NodeJS.Timeout[] = [];
  #stopped = false;

  constructor(opts: SchedulerOptions) {
    this.#opts = opts;
  }

  /** The schedules it runs once started (periods as run here), and the retry delays of a failed run. */
  get schedules(): readonly ScheduleConfig[] {
    const every = this.#opts.everySecondsOverride;
    return this.#opts.schedules.map((s) => ({ fn: s.fn, everySeconds: every ?? s.everySeconds }));
  }

  get retryDelaysMs(): readonly number[] {
    return this.#opts.retryDelaysMs;
  }

  start(): void {
    for (const s of this.#opts.schedules) {
      const period = (this.#opts.everySecondsOverride ?? s.everySeconds) * 1000;
      const t = setInterval(() => void this.run(s.fn), period);
      t.unref();
      this.#timers.push(t);
    }
  }

  /** One scheduled run now, with the asynchronous-invocation retries. Resolves with the last attempt. */
  async run(fn: string): Promise<InvocationResult> {
    const { lambda, region, accountId, retryDelaysMs, log } = this.#opts;
    const event = scheduledEvent(fn, region, accountId);
    let res = await lambda.invoke(fn, event);
    for (const delay of retryDelaysMs) {
      if (res.ok || this.#stopped) break;
      log('schedule', `${fn}: ${res.error.errorType}: ${res.error.errorMessage}; retrying in ${delay} ms`);
      await pause(delay, undefined, { ref: false });
      if (this.#stopped) break;
      res = await lambda.invoke(fn, event);
    }
    return res;
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
  }
}
