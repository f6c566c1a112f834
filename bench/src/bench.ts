/**
 * `npm run bench`: baselines, then each phase of the profile against a fresh local runtime, then a JSON
 * report in bench/results/ and a human summary. Also used by the smoke test inside `npm test`.
 */
import { randomBytes } from 'node:crypto';
import { defaultAddresses } from '@chat/local/services';
import { type BaselineResult, cqlInserts, kafkaRoundTrip, redisRoundTrip } from './baselines/raw.ts';
import { wsEcho } from './baselines/ws-echo.ts';
import { Api } from './client.ts';
import { isolate } from './isolation.ts';
import type { LoadResult } from './load-summary.ts';
import { type PhaseReport, runIdlePhase, runLoadPhase } from './phases.ts';
import { mallocEnvOf } from './procs.ts';
import type { CliOptions, Profile } from './profiles.ts';
import { log } from './progress.ts';
import { addAwayMembers, type PushAway, type PushAwayReport } from './push-away.ts';
import { fmt, gitCommit, type MachineInfo, machineInfo, type TargetCheck, writeResult } from './report.ts';
import { externalRuntime, spawnRuntime } from './runtime.ts';
import { ensureBackingServices } from './services.ts';
import { type ServicesWarmup, warmServices } from './services-warmup.ts';
import { evaluateTargets } from './targets.ts';
import { World } from './world.ts';

export interface BenchReport {
  kind: 'bench';
  profile: string;
  runId: string;
  startedAt: string;
  finishedAt: string;
  commit: string | null;
  machine: MachineInfo;
  config: Profile;
  /** The JVM services' ages and the warm-up driven before measuring (services-warmup.ts). */
  services: ServicesWarmup;
  /** BENCH_RUNTIME_NODE_ARGS: extra Node/V8 flags of the bench's runtime (A/B experiments), '' when none. */
  runtimeNodeArgs: string;
  /**
   * The runtime process's glibc malloc settings as it started (procs.ts `mallocEnvOf`; an external runtime's when
   * it runs on this host), null when unknown: the idle RSS depends on them (local/runtime/malloc.ts).
   */
  runtimeMallocEnv: Record<string, string> | null;
  runtime: 'spawned' | 'external';
  /** The runtime's endpoints (an external one's are what `--target` named). */
  endpoints?: { wsUrl: string; httpUrl: string };
  setup: { users: number; conversations: number; seconds: number };
  baselines: BaselineResult[];
  phases: PhaseReport[];
  targets: TargetCheck[];
  totals: { lost: number; duplicated: number; sent: number; acked: number };
  /** `--push-slow` / `--push-status` (issue 15): the away members' push service and what it received. */
  push?: PushAwayReport;
  ok: boolean;
}

export async function runBaselines(counts: NonNullable<Profile['baselines']>): Promise<BaselineResult[]> {
  const t = defaultAddresses();
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
  // Before anything is measured (baselines included); against an external runtime too (same services).
  const services = await warmServices(opts.servicesWarmupSec);
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
  const runtimeMallocEnv = rt.pid ? mallocEnvOf(rt.pid) : null;
  const phases: PhaseReport[] = [];
  let setup = { users: 0, conversations: 0, seconds: 0 };
  let away: PushAway | undefined;
  let push: PushAwayReport | undefined;
  try {
    log(`runtime: ${rt.endpoints.httpUrl} ${rt.endpoints.wsUrl}${rt.pid ? ` (pid ${rt.pid})` : ''}`);
    const t0 = performance.now();
    const world = await World.create(new Api(rt.endpoints.httpUrl), {
      runId,
      users: profile.users,
      groupSize: profile.groupSize,
      ...(profile.dms ? { dms: profile.dms } : {}),
    });
    setup = {
      users: world.users.length,
      conversations: world.conversations.length,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
    };
    if (opts.push) away = await addAwayMembers(world, new Api(rt.endpoints.httpUrl), opts.push);
    for (const phase of profile.phases) {
      phases.push(
        phase.kind === 'load'
          ? await runLoadPhase(phase, world, rt, profile)
          : await runIdlePhase(phase, world, rt),
      );
    }
    push = away?.report();
  } finally {
    await away?.stop();
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
    services,
    runtimeNodeArgs: process.env.BENCH_RUNTIME_NODE_ARGS ?? '',
    runtimeMallocEnv,
    runtime: external ? 'external' : 'spawned',
    endpoints: { wsUrl: rt.endpoints.wsUrl, httpUrl: rt.endpoints.httpUrl },
    setup,
    baselines,
    phases,
    targets: evaluateTargets(baselines, phases),
    totals,
    ...(push ? { push } : {}),
    ok: totals.lost === 0 && totals.duplicated === 0,
  };
  const file = opts.write === false ? null : writeResult('bench', profile.name, report, opts.outDir);
  return { report, file };
}
