/**
 * The chaos suite: scenarios in order, one fresh runtime for all of them, a JSON report in bench/results/.
 * `short` = what `npm test` runs (non-destructive: persist environment kill and poison records, plus a small
 * fuzz); `full` = `npm run chaos` (adds kill -9 Kafka, restart Cassandra, restart Redis, 100,000 fuzz frames).
 */
import { randomBytes } from 'node:crypto';
import {
  type ChaosScenarioResult,
  type FaultName,
  type PoisonResult,
  runChaosScenario,
  runPoison,
} from './chaos.ts';
import { Api } from './client.ts';
import { type FuzzResult, runFuzz } from './fuzz.ts';
import { isolate } from './isolation.ts';
import { log } from './progress.ts';
import { gitCommit, type MachineInfo, machineInfo, table, writeResult } from './report.ts';
import { spawnRuntime } from './runtime.ts';
import { ensureBackingServices } from './services.ts';
import { BENCH_PASSWORD, retrying, World } from './world.ts';

export type ChaosStep = FaultName | 'poison-records' | 'fuzz';

export interface ChaosOptions {
  variant: 'short' | 'full';
  steps: ChaosStep[];
  connections: number;
  rate: number;
  beforeSec: number;
  afterSec: number;
  fuzzFrames: number;
  fuzzConnections: number;
  seed: number;
  write: boolean;
}

export const chaosVariants: Record<'short' | 'full', ChaosOptions> = {
  short: {
    variant: 'short',
    steps: ['persist-env-kill', 'poison-records', 'fuzz'],
    connections: 24,
    rate: 30,
    beforeSec: 3,
    afterSec: 5,
    fuzzFrames: 2_000,
    fuzzConnections: 10,
    seed: 1,
    write: false,
  },
  full: {
    variant: 'full',
    steps: [
      'persist-env-kill',
      'poison-records',
      'kafka-kill9',
      'cassandra-restart',
      'redis-restart',
      'fuzz',
    ],
    // A rate the system sustains on this 2-core machine with other work on it: chaos measures recovery, and a
    // backlog from overload would read as slow recovery. Raise it with -R on a quiet machine.
    connections: 100,
    rate: 40,
    beforeSec: 10,
    afterSec: 20,
    fuzzFrames: 100_000,
    fuzzConnections: 64,
    seed: 20_251_127,
    write: true,
  },
};

export interface ChaosReport {
  kind: 'chaos';
  variant: string;
  runId: string;
  startedAt: string;
  finishedAt: string;
  commit: string | null;
  machine: MachineInfo;
  options: ChaosOptions;
  scenarios: ChaosScenarioResult[];
  poison: PoisonResult | null;
  fuzz: FuzzResult | null;
  errors: { step: string; error: string }[];
  ok: boolean;
}

export async function runChaos(o: ChaosOptions): Promise<{ report: ChaosReport; file: string | null }> {
  const runId = randomBytes(4).toString('hex').slice(0, 6);
  const startedAt = new Date().toISOString();
  await ensureBackingServices();
  const iso = await isolate(runId);
  const spawn = () =>
    spawnRuntime({ env: iso.env, logFile: process.env.BENCH_RUNTIME_LOG === '1' ? iso.logFile : '' });
  let rt = await spawn();
  const scenarios: ChaosScenarioResult[] = [];
  const errors: { step: string; error: string }[] = [];
  let poison: PoisonResult | null = null;
  let fuzz: FuzzResult | null = null;
  try {
    const api = new Api(rt.endpoints.httpUrl);
    const world = await World.create(api, {
      runId,
      users: Math.max(8, Math.ceil(o.connections / 2)),
      groupSize: 4,
    });
    for (const step of o.steps) {
      try {
        if (step === 'poison-records') {
          poison = await runPoison(world, rt, {
            connections: o.connections,
            rate: o.rate,
            seconds: o.beforeSec + o.afterSec,
            messagesTopic: iso.messagesTopic,
            deadLetterTopic: iso.deadLetterTopic,
          });
        } else if (step === 'fuzz') {
          // A user who is a member of none of the world's conversations.
          const auth = await retrying(() => api.signup(`f${runId}_fuzz`, BENCH_PASSWORD));
          let token = auth.accessToken;
          let refresh = auth.refreshToken;
          let tokenAt = Date.now();
          const accessToken = () => {
            if (Date.now() - tokenAt > 10 * 60_000) {
              tokenAt = Date.now();
              void api.refresh(refresh).then((a) => {
                token = a.accessToken;
                refresh = a.refreshToken;
              });
            }
            return token;
          };
          log(`fuzz: ${o.fuzzFrames} frames over ${o.fuzzConnections} connections (seed ${o.seed})`);
          const { runtime, ...result } = await runFuzz(
            rt,
            api,
            accessToken,
            [...world.conversations.map((c) => c.id), 'no-such-conversation'],
            {
              frames: o.fuzzFrames,
              connections: o.fuzzConnections,
              seed: o.seed,
              framesPerSecondPerConnection: 15,
              answerTimeoutMs: 15_000, // longer than a cold start after a respawn (init up to 10 s)
              budgetMs: Math.max(60_000, o.fuzzFrames * 10),
            },
            spawn,
          );
          rt = runtime;
          fuzz = result;
          log(
            `fuzz: ${fuzz.framesSent} frames, ${fuzz.violations} violations, ${fuzz.unanswered} unanswered, ${fuzz.crashes.length} runtime crashes, ping after ${fuzz.pingAfter} → ${fuzz.ok ? 'OK' : 'FAILED'}`,
          );
        } else {
          scenarios.push(
            await runChaosScenario(world, rt, {
              fault: step,
              connections: o.connections,
              rate: o.rate,
              beforeSec: o.beforeSec,
              afterSec: o.afterSec,
              drainTimeoutSec: 120,
            }),
          );
        }
      } catch (err) {
        const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
        log(`chaos ${step}: ERROR ${msg}`);
        errors.push({ step, error: msg });
      }
    }
  } finally {
    await rt.stop();
    await iso.cleanup();
  }
  const report: ChaosReport = {
    kind: 'chaos',
    variant: o.variant,
    runId,
    startedAt,
    finishedAt: new Date().toISOString(),
    commit: gitCommit(),
    machine: machineInfo(),
    options: o,
    scenarios,
    poison,
    fuzz,
    errors,
    ok: errors.length === 0 && scenarios.every((s) => s.ok) && (poison?.ok ?? true) && (fuzz?.ok ?? true),
  };
  const file = o.write ? writeResult('chaos', o.variant, report) : null;
  return { report, file };
}

export function chaosSummary(r: ChaosReport): string {
  const lines = [`chaos ${r.variant} · ${r.startedAt} · commit ${r.commit ?? '?'}`];
  if (r.scenarios.length) {
    lines.push(
      table(
        [
          'fault',
          'sent',
          'acked',
          'refused in fault',
          'LOST',
          'DUP history',
          'DUP deliveries',
          'unread exact',
          'service back s',
          'delivery resumed s',
          'longest stall s',
          'worst latency ms',
          'ok',
        ],
        r.scenarios.map((s) => [
          s.fault,
          s.load.sent,
          s.load.acked,
          s.refusedDuringFault,
          s.load.lost,
          s.load.duplicatedInHistory,
          s.load.duplicatedDeliveries,
          s.unreadExact ? 'yes' : 'NO',
          s.serviceBackAfterSec,
          s.deliveryResumedAfterSec,
          s.longestDeliveryGapSec,
          s.worstLatencyAroundFaultMs,
          s.ok ? 'yes' : 'NO',
        ]),
      ),
    );
  }
  if (r.poison) {
    const p = r.poison;
    lines.push(
      `poison records: ${p.deadLettered}/${p.produced} dead-lettered with reason in ${p.deadLetterWaitSec} s; live LOST ${p.load.lost} DUP ${p.load.duplicated}; worst live latency ${p.worstLiveLatencyMs ?? '—'} ms → ${p.ok ? 'OK' : 'FAILED'}`,
    );
  }
  if (r.fuzz) {
    const f = r.fuzz;
    lines.push(
      `fuzz: ${f.framesSent} frames in ${f.durationSec} s; error frames ${f.answers.errorFrames}, closes ${JSON.stringify(f.answers.closes)}; violations ${f.violations}, unanswered ${f.unanswered}; runtime crashes ${f.crashes.length}, ping after ${f.pingAfter} → ${f.ok ? 'OK' : 'FAILED'}`,
    );
    for (const c of f.crashes) {
      const why = c.stderr.split('\n').find((l) => /Error|error/.test(l)) ?? c.stderr.slice(0, 200);
      lines.push(`  runtime crash after ${c.afterFrames} frames: ${why.trim()}`);
      if (c.culprit) lines.push(`    culprit (${c.culprit.category}): ${c.culprit.frame.slice(0, 160)}`);
    }
    if (f.excludedCategories.length)
      lines.push(`  left out after a crash: ${f.excludedCategories.join(', ')}`);
    for (const x of f.failures.slice(0, 10))
      lines.push(
        `  #${x.index} ${x.category}: expected ${x.expected}, got ${x.got} · ${x.frame.slice(0, 120)}`,
      );
  }
  for (const e of r.errors) lines.push(`ERROR in ${e.step}: ${e.error.split('\n')[0]}`);
  lines.push(`→ ${r.ok ? 'OK' : 'FAILED'}`);
  return lines.join('\n');
}
