/**
 * `npm run bench`: baselines, then each phase of the profile against a fresh local runtime, then a JSON
 * report in bench/results/ and a human summary. Also used by the smoke test inside `npm test`.
 */
import { randomBytes } from 'node:crypto';
import {
  type BaselineResult,
  cqlInserts,
  defaultTargets,
  kafkaRoundTrip,
  redisRoundTrip,
} from './baselines/raw.ts';
import { wsEcho } from './baselines/ws-echo.ts';
import { Api } from './client.ts';
import { isolate } from './isolation.ts';
import { Connections, type LoadResult, sendAtRate, summarizeLoad, verifyHistory, World } from './load.ts';
import {
  pidListeningOn,
  type ResourceReport,
  ResourceSampler,
  readStat,
  type SampleTarget,
} from './procs.ts';
import type { CliOptions, IdlePhase, LoadPhase, Profile } from './profiles.ts';
import { log, Progress } from './progress.ts';
import {
  fmt,
  gitCommit,
  type MachineInfo,
  machineInfo,
  type TargetCheck,
  table,
  writeResult,
} from './report.ts';
import { externalRuntime, type FunctionStats, type RuntimeHandle, spawnRuntime } from './runtime.ts';
import { ensureBackingServices } from './services.ts';

export interface PhaseReport {
  name: string;
  kind: 'load' | 'idle';
  startedAt: string;
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
  /** The runtime's metrics at the end of the warm-up: cold starts and init durations are here. */
  warmupFunctions?: Record<string, FunctionStats> | null;
}

type Recorderish = { summary(): unknown };

export interface BenchReport {
  kind: 'bench';
  profile: string;
  runId: string;
  startedAt: string;
  finishedAt: string;
  commit: string | null;
  machine: MachineInfo;
  config: Profile;
  runtime: 'spawned' | 'external';
  setup: { users: number; conversations: number; seconds: number };
  baselines: BaselineResult[];
  phases: PhaseReport[];
  targets: TargetCheck[];
  totals: { lost: number; duplicated: number; sent: number; acked: number };
  ok: boolean;
}

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
  const t = defaultTargets();
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

export async function runBaselines(counts: NonNullable<Profile['baselines']>): Promise<BaselineResult[]> {
  const t = defaultTargets();
  log('baselines: raw Kafka produce→consume');
  const out: BaselineResult[] = [await kafkaRoundTrip(t, counts.kafka)];
  log('baselines: raw Redis round trip');
  out.push(await redisRoundTrip(t, counts.redis));
  log('baselines: raw CQL inserts');
  out.push(...(await cqlInserts(t, counts.cql)));
  log('baselines: raw WebSocket echo through the emulator (no-op handler)');
  out.push(await wsEcho(counts.wsEcho));
  for (const b of out) {
    log(
      `  ${b.name}: ${b.ok ? `p50 ${fmt(b.latencyMs?.p50, 3)} ms p99 ${fmt(b.latencyMs?.p99, 3)} ms` : `FAILED ${b.error}`}`,
    );
  }
  return out;
}

async function runLoadPhase(
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
  });
  progress.stop();
  log(`phase ${phase.name}: draining (up to ${phase.drainTimeoutSec} s)`);
  const drain = await conns.drain(phase.drainTimeoutSec * 1000);
  const resources = sampler.stop();
  const loadAvg = loadSummary(sampler.loadAvg);
  const functions = await rt.metrics().catch(() => null);
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
    ...(warmup ? { warmup } : {}),
    load,
    connectMs: conns.connectMs.summary() as unknown as Record<string, number | null>,
    resources,
    loadAvg,
    functions,
    warmupFunctions,
  };
}

async function runIdlePhase(phase: IdlePhase, world: World, rt: RuntimeHandle): Promise<PhaseReport> {
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
  await new Promise((r) => setTimeout(r, phase.holdSec * 1000));
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

function evaluateTargets(baselines: BaselineResult[], phases: PhaseReport[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const kafka = baselines.find((b) => b.name === 'kafka');
  const byName = (n: string) => phases.find((p) => p.name === n);
  const lat = byName('latency-1000')?.load;
  if (lat) {
    const p50 = lat.deliveryLatencyMs.p50;
    const p99 = lat.deliveryLatencyMs.p99;
    out.push({
      name: 'delivery latency at 1,000 msg/s over 2,000 connections',
      target: 'p50 ≤ 10 ms, p99 ≤ 40 ms',
      actual: `p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms (achieved ${lat.achievedSendRate} msg/s)`,
      met: p50 !== null && p99 !== null ? p50 <= 10 && p99 <= 40 : null,
    });
    const kp50 = kafka?.latencyMs?.p50 ?? null;
    out.push({
      name: 'e2e p50 within 3× raw Kafka produce→consume',
      target: '≤ 3.0×',
      actual:
        p50 !== null && kp50
          ? `${fmt(p50 / kp50, 2)}× (${fmt(p50)} ms vs ${fmt(kp50, 2)} ms)`
          : 'no Kafka baseline',
      met: p50 !== null && kp50 ? p50 / kp50 <= 3 : null,
    });
  }
  const thr = byName('throughput-5000')?.load;
  if (thr) {
    const persisted = thr.persistedMsgPerSec ?? 0;
    out.push({
      name: 'sustained throughput with zero loss',
      target: '≥ 5,000 msg/s persisted and delivered, LOST = 0',
      actual: `sent ${thr.achievedSendRate}/s, persisted ${persisted}/s, delivered ${thr.deliveredMsgPerSec}/s, LOST ${thr.lost}`,
      met: persisted >= 5000 && thr.deliveredMsgPerSec >= 5000 && thr.lost === 0,
    });
  }
  const idle = byName('idle-10000')?.idle;
  if (idle) {
    out.push({
      name: '10,000 idle connections: runtime RSS',
      target: '< 500 MB',
      actual: `${fmt(idle.runtimeRssAfterMb)} MB (${idle.runtimeRssPerConnectionKb ?? '—'} KB per connection)`,
      met: idle.runtimeRssAfterMb !== null ? idle.runtimeRssAfterMb < 500 : null,
    });
  }
  const soak = phases.find((p) => p.name.startsWith('soak'));
  if (soak?.load) {
    const series = soak.resources.find((r) => r.name === 'runtime')?.rssSeriesMb ?? [];
    const minute = 60;
    const early = series.slice(minute, 2 * minute);
    const late = series.slice(-minute);
    const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
    const growth = (avg(late) - avg(early)) / avg(early);
    out.push({
      name: 'soak: RSS flat and zero loss',
      target: 'runtime RSS growth minute 2 → last minute < 10 %, LOST = 0, DUPLICATED = 0',
      actual: `RSS ${fmt(avg(early), 0)} → ${fmt(avg(late), 0)} MB (${fmt(growth * 100)} %), LOST ${soak.load.lost}, DUPLICATED ${soak.load.duplicated}`,
      met: Number.isFinite(growth)
        ? growth < 0.1 && soak.load.lost === 0 && soak.load.duplicated === 0
        : null,
    });
  }
  return out;
}

export function humanSummary(r: BenchReport): string {
  const lines: string[] = [];
  lines.push(`bench ${r.profile} · ${r.startedAt} · commit ${r.commit ?? '?'}`);
  lines.push(
    `machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memGiB} GiB, Node ${r.machine.node}`,
  );
  lines.push(
    `setup: ${r.setup.users} users, ${r.setup.conversations} conversations in ${fmt(r.setup.seconds)} s`,
  );
  if (r.baselines.length) {
    lines.push('', 'raw baselines (ms)');
    lines.push(
      table(
        ['component', 'p50', 'p90', 'p99', 'max', 'n'],
        r.baselines.map((b) =>
          b.ok
            ? [
                b.name,
                fmt(b.latencyMs?.p50, 3),
                fmt(b.latencyMs?.p90, 3),
                fmt(b.latencyMs?.p99, 3),
                fmt(b.latencyMs?.max, 3),
                b.latencyMs?.count,
              ]
            : [b.name, `failed: ${b.error?.slice(0, 60)}`, '', '', '', ''],
        ),
      ),
    );
  }
  for (const p of r.phases) {
    lines.push('', `phase ${p.name}`);
    if (p.load) {
      const l = p.load;
      lines.push(
        table(
          ['metric', 'value'],
          [
            ['connections / users / conversations', `${l.connections} / ${l.users} / ${l.conversations}`],
            ['target rate → achieved send rate', `${l.targetRate} → ${l.achievedSendRate} msg/s`],
            [
              'sent / acked / refused / unanswered',
              `${l.sent} / ${l.acked} / ${l.refused} / ${l.unanswered}`,
            ],
            ['sends held back (backpressure: runtime behind)', String(l.backpressuredSends)],
            [
              'send→ack p50 / p90 / p99 / max (ms)',
              `${fmt(l.ackLatencyMs.p50)} / ${fmt(l.ackLatencyMs.p90)} / ${fmt(l.ackLatencyMs.p99)} / ${fmt(l.ackLatencyMs.max)}`,
            ],
            [
              'send→delivery p50 / p90 / p99 / max (ms)',
              `${fmt(l.deliveryLatencyMs.p50)} / ${fmt(l.deliveryLatencyMs.p90)} / ${fmt(l.deliveryLatencyMs.p99)} / ${fmt(l.deliveryLatencyMs.max)}`,
            ],
            [
              'delivered msg/s · deliveries/s · persisted msg/s',
              `${l.deliveredMsgPerSec} · ${l.deliveriesPerSec} · ${l.persistedMsgPerSec ?? '—'}`,
            ],
            [
              'LOST (deliveries missing · missing from history)',
              `${l.lost} (${l.lostDeliveries} · ${l.lostFromHistory})`,
            ],
            ['DUPLICATED (in history)', `${l.duplicated} (${l.duplicatedInHistory})`],
            [
              'unread exact (observers checked · mismatches) · id/seq order diffs',
              l.history
                ? `${l.history.unreadChecked} · ${l.history.unreadMismatches.length} · ${l.history.unreadOrderDiffs.length}`
                : '—',
            ],
            ['errors by code', JSON.stringify(l.errorsByCode)],
            [
              'non-contract frames (samples)',
              `${l.nonContractFrames} ${l.nonContractSamples.slice(0, 2).join(' | ')}`,
            ],
            ['unexpected closes (codes)', `${l.unexpectedCloses} ${JSON.stringify(l.closeCodes)}`],
            ...(p.warmup
              ? [
                  [
                    'warm-up sent / acked / LOST / DUPLICATED',
                    `${p.warmup.sent} / ${p.warmup.acked} / ${p.warmup.lost} / ${p.warmup.duplicated}`,
                  ],
                ]
              : []),
            ['drain', `${l.drainMs} ms${l.drainComplete ? '' : ' (incomplete)'}`],
          ],
        ),
      );
    }
    if (p.idle) {
      const i = p.idle;
      lines.push(
        `${i.connections} idle connections opened in ${i.openSeconds} s; runtime RSS ${fmt(i.runtimeRssBeforeMb)} → ${fmt(i.runtimeRssAfterMb)} MB at the end of the ${i.holdSec ?? '?'} s hold (peak ${fmt(i.runtimeRssPeakMb ?? null)} MB while opening; ${i.runtimeRssPerConnectionKb ?? '—'} KB/connection); unexpected closes ${i.unexpectedCloses}`,
      );
    }
    if (p.loadAvg)
      lines.push(
        `machine load average during the phase: mean ${p.loadAvg.mean}, max ${p.loadAvg.max} (2 cores)`,
      );
    lines.push(
      table(
        ['process', 'peak RSS MB', 'avg CPU %', 'peak CPU %'],
        p.resources.map((x) => [x.name, fmt(x.peakRssMb), x.avgCpuPct, x.peakCpuPct]),
      ),
    );
    if (p.functions) {
      lines.push(
        table(
          [
            'function',
            'invocations',
            'errors',
            'cold',
            'init p50',
            'init max',
            'invoke p50',
            'invoke p99',
            'invoke max',
            'CPU ms/invoke',
          ],
          Object.entries(p.functions)
            .filter(([, f]) => f.invocations > 0 || f.coldStarts > 0)
            .map(([n, f]) => [
              n,
              f.invocations,
              f.errors,
              f.coldStarts,
              fmt(f.init.p50),
              fmt(f.init.max),
              fmt(f.duration.p50, 2),
              fmt(f.duration.p99, 2),
              fmt(f.duration.max),
              f.cpuMs === undefined || f.invocations === 0 ? '-' : fmt(f.cpuMs / f.invocations, 2),
            ]),
        ),
      );
    }
  }
  if (r.targets.length) {
    lines.push('', 'targets');
    lines.push(
      table(
        ['target', 'wanted', 'actual', 'met'],
        r.targets.map((t) => [t.name, t.target, t.actual, t.met === null ? '?' : t.met ? 'yes' : 'NO']),
      ),
    );
  }
  lines.push(
    '',
    `TOTAL: LOST ${r.totals.lost}, DUPLICATED ${r.totals.duplicated} → ${r.ok ? 'OK' : 'FAILED'}`,
  );
  return lines.join('\n');
}

export interface RunBenchOptions extends CliOptions {
  /** Write results to bench/results (default true). */
  write?: boolean;
}

export async function runBench(opts: RunBenchOptions): Promise<{ report: BenchReport; file: string | null }> {
  const { profile } = opts;
  const runId = randomBytes(4)
    .toString('hex')
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 6);
  const startedAt = new Date().toISOString();
  const external = Boolean(opts.wsUrl && opts.httpUrl);
  if (!external) await ensureBackingServices();
  const baselines = profile.baselines ? await runBaselines(profile.baselines) : [];
  const iso = external ? null : await isolate(runId);
  const rt = external
    ? externalRuntime({ wsUrl: opts.wsUrl as string, httpUrl: opts.httpUrl as string })
    : await spawnRuntime({
        env: iso?.env ?? {},
        // Function logs cost the runtime CPU (several lines per invocation): off unless BENCH_RUNTIME_LOG=1.
        logFile: process.env.BENCH_RUNTIME_LOG === '1' ? (iso?.logFile ?? '') : '',
        ...(profile.maxConcurrency !== undefined ? { maxConcurrency: profile.maxConcurrency } : {}),
        ...(profile.idleEnvironmentTtlSec !== undefined
          ? { idleEnvironmentTtlMs: profile.idleEnvironmentTtlSec * 1000 }
          : {}),
      });
  const phases: PhaseReport[] = [];
  let setup = { users: 0, conversations: 0, seconds: 0 };
  try {
    log(`runtime: ${rt.endpoints.httpUrl} ${rt.endpoints.wsUrl}${rt.pid ? ` (pid ${rt.pid})` : ''}`);
    const t0 = performance.now();
    const world = await World.create(new Api(rt.endpoints.httpUrl), {
      runId,
      users: profile.users,
      groupSize: profile.groupSize,
    });
    setup = {
      users: world.users.length,
      conversations: world.conversations.length,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
    };
    for (const phase of profile.phases) {
      phases.push(
        phase.kind === 'load'
          ? await runLoadPhase(phase, world, rt, profile)
          : await runIdlePhase(phase, world, rt),
      );
    }
  } finally {
    await rt.stop();
    await iso?.cleanup();
  }
  const loads = phases.map((p) => p.load).filter((l): l is LoadResult => Boolean(l));
  const totals = {
    lost: loads.reduce((n, l) => n + l.lost, 0) + phases.reduce((n, p) => n + (p.warmup?.lost ?? 0), 0),
    duplicated:
      loads.reduce((n, l) => n + l.duplicated, 0) +
      phases.reduce((n, p) => n + (p.warmup?.duplicated ?? 0), 0),
    sent: loads.reduce((n, l) => n + l.sent, 0),
    acked: loads.reduce((n, l) => n + l.acked, 0),
  };
  const report: BenchReport = {
    kind: 'bench',
    profile: profile.name,
    runId,
    startedAt,
    finishedAt: new Date().toISOString(),
    commit: gitCommit(),
    machine: machineInfo(),
    config: profile,
    runtime: external ? 'external' : 'spawned',
    setup,
    baselines,
    phases,
    targets: evaluateTargets(baselines, phases),
    totals,
    ok: totals.lost === 0 && totals.duplicated === 0,
  };
  const file = opts.write === false ? null : writeResult('bench', profile.name, report, opts.outDir);
  return { report, file };
}
