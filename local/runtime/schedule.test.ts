/** Scheduled functions: EventBridge scheduled events every N seconds, asynchronous-invocation retries. */

import { waitFor } from '@chat/kit/async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from './index.ts';
import { fixture, type RecordedEvent, recorder } from './test-helpers.ts';

let rt: LocalRuntime;
let ticks: RecordedEvent[];

beforeAll(async () => {
  rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    log: 'silent',
    kafka: false,
    schedules: { everySeconds: 1, retryDelaysMs: [50, 50] },
    functions: [],
    functionOverrides: { tick: fixture('ok.ts'), flaky: fixture('flaky.ts') },
    routeTable: {
      functionDefs: {},
      wsRoutes: [],
      httpRoutes: [],
      kafkaConsumers: [],
      schedules: [{ fn: 'tick', everySeconds: 60 }],
    },
  });
  ticks = recorder(rt, 'tick');
});
afterAll(() => rt?.stop());

describe('When a function has a schedule', () => {
  it('is invoked every N seconds (locally overridden) with an EventBridge scheduled event', async () => {
    await waitFor(() => (ticks.length >= 2 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'two scheduled runs',
    });
    const e = ticks[0] as unknown as Record<string, unknown>;
    expect(e).toMatchObject({
      version: '0',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      region: 'us-east-1',
      detail: {},
    });
    expect(e.resources).toEqual(['arn:aws:events:us-east-1:123456789012:rule/tick-schedule']);
  });

  it('retries a failed run twice, as an asynchronous invocation', async () => {
    const r = await rt.runSchedule('flaky');
    expect(r.ok).toBe(true);
    expect(r.ok && (r.result as { calls: number }).calls).toBe(3);
  });
});
