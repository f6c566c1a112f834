import { expect, it } from 'vitest';
import { cpuPerMessage } from './cpu-budget.ts';
import type { ResourceReport } from './procs.ts';
import type { FunctionStats } from './runtime.ts';

const res = (name: string, cpuSeconds: number | null): ResourceReport => ({
  name,
  pid: 1,
  samples: 10,
  peakRssMb: 1,
  lastRssMb: 1,
  avgCpuPct: 0,
  peakCpuPct: 0,
  cpuSeconds,
  rssSeriesMb: [],
});
const fn = (cpuMs: number) => ({ invocations: 1, cpuMs }) as FunctionStats;

it('divides the system processes’ CPU by the messages, splits the runtime by function, ranks the parts', () => {
  const resources = [
    res('runtime', 6),
    res('redis', 0.5),
    res('kafka', 1),
    res('cassandra', 2.5),
    res('bench (load generator)', 9),
  ];
  const c = cpuPerMessage(resources, { wsSendMessage: fn(2_000), persistFanout: fn(3_000) }, 2_000);
  expect(c?.allInMs).toBe(5); // (6 + 0.5 + 1 + 2.5) s / 2,000, the load generator left out
  expect(c?.processesMs).toEqual({ runtime: 3, redis: 0.25, kafka: 0.5, cassandra: 1.25 });
  expect(c?.functionsMs).toEqual({ wsSendMessage: 1, persistFanout: 1.5 });
  expect(c?.runtimeMainThreadMs).toBe(0.5);
  expect(c?.ranking.map((p) => p.part)).toEqual([
    'persistFanout',
    'cassandra',
    'wsSendMessage',
    'runtime outside invocations',
    'kafka',
    'redis',
  ]);
});

it('splits the runtime outside invocations into its main thread, V8/libuv threads and the environments', () => {
  const resources = [res('runtime', 6), res('redis', 0.5), res('kafka', 1), res('cassandra', 2.5)];
  // 6 s of runtime CPU: 5 s in invocations, 0.4 s main thread, 0.2 s V8/libuv threads, 0.4 s the rest.
  const c = cpuPerMessage(resources, { wsSendMessage: fn(2_000), persistFanout: fn(3_000) }, 2_000, {
    mainMs: 400,
    startupThreadsMs: 200,
  });
  expect(c?.runtimeOutsideInvocationsMs).toBe(0.5);
  expect(c?.runtimeMainThreadMs).toBe(0.2);
  expect(c?.runtimeHelperThreadsMs).toBe(0.1);
  expect(c?.environmentsOutsideInvocationsMs).toBe(0.2);
  expect(c?.ranking.find((p) => p.part === 'environments outside invocations')?.ms).toBe(0.2);
  expect(c?.ranking.some((p) => p.part === 'runtime outside invocations')).toBe(false);
});

it('has no all-in figure when a process was not sampled, and none at all without messages', () => {
  const c = cpuPerMessage(
    [res('runtime', null), res('redis', 1), res('kafka', 1), res('cassandra', 1)],
    null,
    10,
  );
  expect(c?.allInMs).toBeNull();
  expect(c?.runtimeMainThreadMs).toBeNull();
  expect(cpuPerMessage([], null, 0)).toBeNull();
});
