import { expect, it } from 'vitest';
import type { PhaseReport } from './phases.ts';
import { evaluateTargets } from './targets.ts';

const load = (over: Record<string, unknown>) =>
  ({
    targetRate: 200,
    achievedSendRate: 200,
    deliveryLatencyMs: { p50: 9, p99: 80 },
    persistedMsgPerSec: 200,
    deliveredMsgPerSec: 200,
    lost: 0,
    duplicated: 0,
    ...over,
  }) as unknown as PhaseReport['load'];

const phase = (name: string, over: Partial<PhaseReport>): PhaseReport =>
  ({
    name,
    kind: 'load',
    startedAt: '',
    resources: [],
    loadAvg: null,
    functions: null,
    ...over,
  }) as PhaseReport;

it('checks issue 13’s targets: latency at 200 msg/s, sustained rate, CPU per message, idle RSS, zero loss', () => {
  const cpu = (allInMs: number) => ({
    messages: 1,
    allInMs,
    processesMs: {},
    functionsMs: {},
    runtimeOutsideInvocationsMs: null,
    runtimeMainThreadMs: null,
    runtimeHelperThreadsMs: null,
    environmentsOutsideInvocationsMs: null,
    ranking: [{ part: 'persistFanout', ms: 1.2 }],
  });
  const checks = evaluateTargets(
    [],
    [
      phase('latency-200', { load: load({}), cpuPerMessage: cpu(2.5) }),
      phase('throughput-800', {
        load: load({
          targetRate: 800,
          achievedSendRate: 640,
          persistedMsgPerSec: 610,
          deliveredMsgPerSec: 590,
        }),
        cpuPerMessage: cpu(3.2),
      }),
      phase('idle-10000', {
        kind: 'idle',
        idle: { runtimeRssAfterMb: 280 } as PhaseReport['idle'],
      }),
    ],
  );
  const met = Object.fromEntries(checks.map((c) => [c.name, c.met]));
  expect(met).toEqual({
    'delivery latency at 200 msg/s over 2,000 connections': true,
    'sustained throughput (throughput-800)': false, // delivered 590 < 600
    'CPU per message, all in (latency-200)': true,
    'CPU per message, all in (throughput-800)': false,
    '10,000 idle connections: runtime RSS': true,
    'zero loss in every phase (warm-ups included)': true,
  });
  expect(checks.find((c) => c.name.startsWith('sustained'))?.actual).toContain(
    'limits next: persistFanout 1.20 ms',
  );
});

it('a warm-up loss fails the zero-loss check, and latency needs the rate really offered', () => {
  const checks = evaluateTargets(
    [],
    [
      phase('latency-200', {
        load: load({ achievedSendRate: 150 }),
        warmup: { sent: 1, acked: 1, lost: 1, duplicated: 0, drainMs: 0, drainComplete: true },
      }),
    ],
  );
  expect(checks.map((c) => c.met)).toEqual([false, null, false]); // latency, CPU (not sampled), zero loss
});
