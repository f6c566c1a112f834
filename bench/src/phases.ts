/**
 * The two kinds of phase of a bench run against one runtime: a load phase (connections, warm-up, measured
 * window, drain, history check, accounting) and an idle phase (many connections held open, the runtime's memory
 * measured); each sampled for CPU and memory per process.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { defaultAddresses } from '@chat/local/services';
import { type StoreWorkPerMessage, storeWorkPerMessage, takeCensus } from './census.ts';
import { Connections } from './connections.ts';
import { type CpuPerMessage, cpuPerMessage } from './cpu-budget.ts';
import { verifyHistory } from './history-check.ts';
import { type LoadResult, summarizeLoad } from './load-summary.ts';
import {
  pidListeningOn,
  type ResourceReport,
  ResourceSampler,
  readStat,
  type SampleTarget,
} from './procs.ts';
import type { IdlePhase, LoadPhase, Profile } from './profiles.ts';
import { log, Progress } from './progress.ts';
import { fmt } from './report.ts';
import type { FunctionStats, RuntimeHandle } from './runtime.ts';
import { sendAtRate } from './send-loop.ts';
import type { World } from './world.ts';

export interface PhaseReport {
  name: string;
  kind: 'load' | 'idle';
  startedAt: string;
  /** Load phases: the measured window and drain (what the CPU and resource figures cover). */
  measuredWindow?: { from: string; to: string };
  /** The warm-up before measuring: its messages are accounted too (LOST/DUPLICATED count in the totals). */
  warmup?: {
    sent: number;
    acked: number;
    lost: number;
    duplicated: number;
    drainMs: number;
    drainComplete: boolean;
  };
  load?: LoadResult;
  idle?: {
    connections: number;
    holdSec?: number;
    openSeconds: number;
    runtimeRssBeforeMb: number | null;
    /** At the end of the hold. */
    runtimeRssAfterMb: number | null;
    /** Highest sample during the phase (while connections were being opened, environments busy). */
    runtimeRssPeakMb?: number | null;
    runtimeRssPerConnectionKb: number | null;
    connectMs: ReturnType<Recorderish['summary']> | null;
    unexpectedCloses: number;
  };
  connectMs?: Record<string, number | null>;
  resources: ResourceReport[];
  /** Machine 1-minute load average during the phase (2 cores: above 2 means queueing for CPU). */
  loadAvg: { mean: number; max: number } | null;
  functions: Record<string, FunctionStats> | null;
  /** Load phases: CPU per acked message of the system under test, by process and function (cpu-budget.ts). */
  cpuPerMessage?: CpuPerMessage | null;
  /** Load phases: CQL operations and Redis commands per acked message, counted by the stores (census.ts). */
  storeWork?: StoreWorkPerMessage | null;
  /** The runtime's metrics at the end of the warm-up: cold starts and init durations are here. */
  warmupFunctions?: Record<string, FunctionStats> | null;
}

type Recorderish = { summary(): unknown };

function loadSummary(xs: number[]): { mean: number; max: number } | null {
  if (!xs.length) return null;
  return { mean: Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10, max: Math.max(...xs) };
}

/** Cache pids of the services by port; re-resolve only when the cached process is gone (restarts). */
export function servicePidResolver(port: number): () => number | null {
  let pid: number | null = null;
  let lastLookup = 0;
  return () => {
    if (pid !== null && readStat(pid)) return pid;
    const now = Date.now();
    if (now - lastLookup < 5_000) return null;
    lastLookup = now;
    pid = pidListeningOn(port);
    return pid;
  };
}

export function sampleTargets(rt: RuntimeHandle): SampleTarget[] {
  const t = defaultAddresses();
  const port = (hostPort: string | undefined, dflt: number) =>
    Number(hostPort?.split(':').pop() ?? dflt) || dflt;
  return [
    { name: 'runtime', pid: () => rt.pid, tree: true },
    { name: 'redis', pid: servicePidResolver(Number(new URL(t.redisUrl).port || 6379)), tree: false },
    { name: 'kafka', pid: servicePidResolver(port(t.kafkaBrokers[0], 9092)), tree: false },
    { name: 'cassandra', pid: servicePidResolver(t.cqlPort), tree: false },
    { name: 'bench (load generator)', pid: () => process.pid, tree: false },
  ];
}

export async function runLoadPhase(
  phase: LoadPhase,
  world: World,
  rt: RuntimeHandle,
  profile: Profile,
): Promise<PhaseReport> {
  const startedAt = new Date().toISOString();
  log(
    `phase ${phase.name}: ${phase.connections} connections, ${phase.rate} msg/s for ${phase.durationSec} s`,
  );
  const conns = new Connections(world, rt.endpoints);
  await conns.open(phase.connections);
  let warmup: PhaseReport['warmup'];
  let warmupFunctions: PhaseReport['functions'] = null;
  if (phase.warmupSec > 0) {
    log(`phase ${phase.name}: warm-up ${phase.warmupSec} s`);
    const w = await sendAtRate(conns, {
      rate: phase.rate,
      durationSec: phase.warmupSec,
      groupShare: profile.groupShare,
      ...(phase.backpressure === false ? { backpressure: false } : {}),
    });
    const d = await conns.drain(60_000);
    const s = summarizeLoad(
      conns,
      { rate: phase.rate, durationSec: phase.warmupSec, sendWindowMs: w.sendWindowMs, skipped: w.skipped },
      d,
      null,
    );
    warmup = {
      sent: s.sent,
      acked: s.acked,
      lost: s.lost,
      duplicated: s.duplicated,
      drainMs: s.drainMs,
      drainComplete: s.drainComplete,
    };
    log(
      `phase ${phase.name}: warm-up sent ${s.sent} acked ${s.acked} LOST ${s.lost} DUPLICATED ${s.duplicated}`,
    );
    // Cold starts (init durations) happen here, before the measured window resets the runtime's metrics.
    warmupFunctions = await rt.metrics().catch(() => null);
    conns.resetTracking();
  }
  await rt.resetMetrics().catch(() => {});
  const threads0 = await rt.threadCpu().catch(() => null);
  const census0 = await takeCensus(defaultAddresses());
  const windowFrom = new Date().toISOString();
  const sampler = new ResourceSampler(sampleTargets(rt), 1000).start();
  const c = conns.counters;
  const progress = new Progress({
    label: phase.name,
    totalSeconds: phase.durationSec,
    status: () =>
      `sent ${c.sent} acked ${c.acked} delivered ${c.deliveries} dup ${c.duplicates} err ${Object.values(c.errorsByCode).reduce((a, b) => a + b, 0)}`,
  }).start();
  const plan = await sendAtRate(conns, {
    rate: phase.rate,
    durationSec: phase.durationSec,
    groupShare: profile.groupShare,
    ...(phase.backpressure === false ? { backpressure: false } : {}),
  });
  progress.stop();
  log(`phase ${phase.name}: draining (up to ${phase.drainTimeoutSec} s)`);
  const drain = await conns.drain(phase.drainTimeoutSec * 1000);
  const resources = sampler.stop();
  const windowTo = new Date().toISOString();
  // The window the CPU figures cover (cpuprof-top --from/--to takes it to summarize profiles of this window only).
  log(`phase ${phase.name}: measured window --from ${windowFrom} --to ${windowTo}`);
  const loadAvg = loadSummary(sampler.loadAvg);
  const functions = await rt.metrics().catch(() => null);
  const threads1 = await rt.threadCpu().catch(() => null);
  const census1 = census0 ? await takeCensus(defaultAddresses()) : null;
  const threads =
    threads0 && threads1
      ? {
          mainMs: threads1.mainMs - threads0.mainMs,
          startupThreadsMs: threads1.startupThreadsMs - threads0.startupThreadsMs,
        }
      : null;
  let history = null;
  if (phase.verifyHistory) {
    log(`phase ${phase.name}: verifying history${phase.checkUnread ? ' and unread counts' : ''}`);
    // Unread counts are only comparable with history once nothing is in flight any more.
    history = await verifyHistory(conns, phase.checkUnread && drain.complete);
  }
  const load = summarizeLoad(
    conns,
    {
      rate: phase.rate,
      durationSec: phase.durationSec,
      sendWindowMs: plan.sendWindowMs,
      skipped: plan.skipped,
      backpressured: plan.backpressured,
    },
    drain,
    history,
  );
  await conns.closeAll();
  log(
    `phase ${phase.name}: sent ${load.sent} acked ${load.acked} LOST ${load.lost} DUPLICATED ${load.duplicated} ` +
      `delivery p50 ${fmt(load.deliveryLatencyMs.p50)} ms p99 ${fmt(load.deliveryLatencyMs.p99)} ms`,
  );
  return {
    name: phase.name,
    kind: 'load',
    startedAt,
    measuredWindow: { from: windowFrom, to: windowTo },
    ...(warmup ? { warmup } : {}),
    load,
    connectMs: conns.connectMs.summary() as unknown as Record<string, number | null>,
    resources,
    loadAvg,
    functions,
    cpuPerMessage: cpuPerMessage(resources, functions, load.acked, threads),
    storeWork: census0 && census1 ? storeWorkPerMessage(census0, census1, load.acked) : null,
    warmupFunctions,
  };
}

export async function runIdlePhase(phase: IdlePhase, world: World, rt: RuntimeHandle): Promise<PhaseReport> {
  const startedAt = new Date().toISOString();
  log(`phase ${phase.name}: opening ${phase.connections} idle connections`);
  const before = rt.pid ? readStat(rt.pid) : null;
  await rt.resetMetrics().catch(() => {});
  const sampler = new ResourceSampler(sampleTargets(rt), 1000).start();
  const conns = new Connections(world, rt.endpoints);
  const t0 = performance.now();
  await conns.open(phase.connections, 400, 64);
  const openSeconds = (performance.now() - t0) / 1000;
  log(`phase ${phase.name}: holding for ${phase.holdSec} s`);
  await delay(phase.holdSec * 1000);
  const resources = sampler.stop();
  const loadAvg = loadSummary(sampler.loadAvg);
  const runtimeRes = resources.find((r) => r.name === 'runtime');
  const functions = await rt.metrics().catch(() => null);
  const unexpectedCloses = conns.counters.unexpectedCloses;
  await conns.closeAll();
  const mb = (b: number | undefined) => (b === undefined ? null : Math.round((b / 1048576) * 10) / 10);
  const beforeMb = mb(before?.rssBytes);
  const afterMb = runtimeRes?.lastRssMb ?? null;
  return {
    name: phase.name,
    kind: 'idle',
    startedAt,
    idle: {
      connections: phase.connections,
      holdSec: phase.holdSec,
      openSeconds: Math.round(openSeconds * 10) / 10,
      runtimeRssBeforeMb: beforeMb,
      runtimeRssAfterMb: afterMb,
      runtimeRssPeakMb: runtimeRes?.peakRssMb ?? null,
      runtimeRssPerConnectionKb:
        beforeMb !== null && afterMb !== null
          ? Math.round(((afterMb - beforeMb) * 1024) / phase.connections)
          : null,
      connectMs: conns.connectMs.summary() as never,
      unexpectedCloses,
    },
    resources,
    loadAvg,
    functions,
  };
}
