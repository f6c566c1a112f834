/**
 * Bench profiles and the command line. `smoke` fits in a minute (it also runs inside `npm test`); `full` runs
 * every phase issue 13 asks for: latency at 200 msg/s over 2,000 connections, throughput offered at 800 msg/s
 * (the achieved rate is the sustained one), 10,000 idle connections, and a 10-minute soak at a rate this
 * machine sustains; `rates` reproduces the table (pairs of users in DMs, one 20 s run per rate).
 */
import { parseArgs } from 'node:util';
import { numberFlag } from '@chat/kit/cli';

export interface LoadPhase {
  kind: 'load';
  name: string;
  connections: number;
  rate: number;
  durationSec: number;
  /** Check every conversation's history and unread counts afterwards. */
  verifyHistory: boolean;
  checkUnread: boolean;
  drainTimeoutSec: number;
  /** Seconds of load before measuring (cold starts, JIT, connection pools); its messages are still checked. */
  warmupSec: number;
  /**
   * Hold sends back while the runtime is behind (default true, see send-loop.ts). `false` offers the whole
   * rate whatever happens (the `rates` runs: a bounded 20 s run, so the queue is bounded too), so that an
   * overloaded runtime shows as latency and as messages not delivered within 15 s, as in the table.
   */
  backpressure?: boolean;
}

export interface IdlePhase {
  kind: 'idle';
  name: string;
  /** Total open connections (including the ones already open). */
  connections: number;
  holdSec: number;
}

export type Phase = LoadPhase | IdlePhase;

export interface BaselineCounts {
  kafka: number;
  redis: number;
  cql: number;
  wsEcho: number;
}

export interface Profile {
  name: string;
  /** Execution environments per function in the bench's runtime (Lambda scales out; the runtime caps it). */
  maxConcurrency?: number | Record<string, number>;
  /**
   * The bench's runtime reclaims an execution environment idle this long (Lambda does after minutes; the
   * runtime's default is 10 minutes). Short in `full`, so the idle phase measures what idle connections cost
   * once the load phases' environments are gone, as on AWS, where an idle connection runs no function at all.
   */
  idleEnvironmentTtlSec?: number;
  users: number;
  groupSize: number;
  /** Fraction of sends that go to a group (the rest to DMs). */
  groupShare: number;
  /** DMs: `ring` (default: each user with the next one) or `pairs` (users 2k and 2k+1, one DM each). */
  dms?: 'ring' | 'pairs';
  baselines: BaselineCounts | null;
  phases: Phase[];
}

export type ProfileName = 'smoke' | 'full' | 'rates';

/** Issue 13's table: one 20 s run per rate over pairs of users in DMs (one connection per user). */
const RATES = [10, 50, 100, 200];

export const profiles: Record<ProfileName, Profile> = {
  smoke: {
    name: 'smoke',
    users: 24,
    groupSize: 4,
    groupShare: 0.25,
    baselines: { kafka: 60, redis: 300, cql: 100, wsEcho: 200 },
    phases: [
      {
        kind: 'load',
        name: 'steady',
        connections: 48,
        rate: 40,
        durationSec: 12,
        verifyHistory: true,
        checkUnread: true,
        drainTimeoutSec: 90,
        warmupSec: 3,
      },
    ],
  },
  full: {
    name: 'full',
    idleEnvironmentTtlSec: 30,
    users: 1000,
    groupSize: 5,
    groupShare: 0.2,
    baselines: { kafka: 500, redis: 5000, cql: 2000, wsEcho: 2000 },
    phases: [
      {
        kind: 'load',
        name: 'latency-200',
        connections: 2000,
        rate: 200,
        durationSec: 60,
        verifyHistory: true,
        checkUnread: false,
        drainTimeoutSec: 60,
        warmupSec: 10,
      },
      {
        // Offered above the target (600): the achieved rate, with backpressure, is the sustained one.
        kind: 'load',
        name: 'throughput-800',
        connections: 2000,
        rate: 800,
        durationSec: 30,
        verifyHistory: true,
        checkUnread: false,
        drainTimeoutSec: 120,
        warmupSec: 5,
      },
      // Held 60 s: past the 30 s idle TTL, so the environments that opened the connections are reclaimed.
      { kind: 'idle', name: 'idle-10000', connections: 10_000, holdSec: 60 },
      {
        // Below the sustained rate, so that the soak measures a steady state, not a queue.
        kind: 'load',
        name: 'soak-300x600',
        connections: 2000,
        rate: 300,
        durationSec: 600,
        verifyHistory: true,
        checkUnread: true,
        drainTimeoutSec: 60,
        warmupSec: 10,
      },
    ],
  },
  rates: {
    name: 'rates',
    users: 200,
    groupSize: 0,
    groupShare: 0,
    dms: 'pairs',
    baselines: null,
    phases: RATES.map(
      (rate): LoadPhase => ({
        kind: 'load',
        name: `rate-${rate}`,
        connections: 200,
        rate,
        durationSec: 20,
        verifyHistory: true,
        checkUnread: false,
        drainTimeoutSec: 60,
        warmupSec: 3,
        backpressure: false,
      }),
    ),
  },
};

export interface CliOptions {
  profile: Profile;
  /** Use a runtime that already runs (e.g. `npm start`) instead of starting one. */
  wsUrl?: string;
  httpUrl?: string;
  outDir?: string;
  seed: number;
  /** `--push-slow MS` / `--push-status CODE`: away group members whose push service is slow or failing. */
  push?: { delayMs?: number; status?: number };
  /** `--services-warmup SEC`: seconds of load on Kafka and Cassandra before measuring (default: 60 when one started < 15 min ago). */
  servicesWarmupSec?: number;
}

const USAGE = `usage: npm run bench -- [--profile smoke|full|rates] [-C connections] [-R msg/s] [-D seconds]
                         [--users N] [--group-size N] [--phases a,b] [--no-baselines] [--max-concurrency N]
                         [--target ws://host:port,http://host:port] [--out dir]

  --profile      smoke (default, under a minute), full (latency-200, throughput-800, idle-10000,
                 soak-300x600) or rates (issue 13's table: 100 pairs of users in DMs, 20 s at each of
                 10, 50, 100, 200 msg/s; p50, p99 and the share not delivered within 15 s)
  -C, -R, -D     replace the profile's load phases by one phase with C connections, R msg/s for D seconds
  --users        number of users signed up (connections are spread over them round robin)
  --phases       run only these phases of the profile (names as in the report)
  --idle-ttl-sec reclaim execution environments idle this long (default: the profile's; the runtime's is 600)
  --warmup-sec   the custom phase's warm-up (default 5 s; longer lets every environment start and the clients'
                 first heartbeats pass before the measured window, so cold starts do not count in its CPU)
  --soak-sec     the soak's length in seconds (default 600; the phase is then named soak-<rate>x<seconds>)
  --no-baselines skip the raw Kafka/Redis/CQL/WebSocket baselines
  --max-concurrency  execution environments per function in the bench's runtime: N for all, or
                 fn=N,fn=N for some (default: the profile's; the runtime's is one per core, 2 to 4)
  --push-slow MS, --push-status CODE
                 (issue 15) one away member per group, subscribed to Web Push at a push service emulator that
                 answers after MS ms and/or with CODE (e.g. 500): measures that a slow or failing push service
                 does not delay WebSocket deliveries (compare with a run without the flag)
  --services-warmup SEC
                 seconds of Kafka and Cassandra load (the raw baselines' loops) before anything is measured;
                 default 60 when either JVM started less than 15 min ago (their JIT is still warming: a first
                 run after \`npm run services -- up\` measured half the throughput), else 0; 0 skips it
  --target       a runtime that already runs, e.g. npm start's: --target ws://localhost:8080,http://localhost:8081
                 (same as --ws URL --http URL); otherwise the bench starts its own on free ports. Its CPU and
                 RSS are sampled from the process listening on the WebSocket port; no per-function metrics
`;

export function parseCli(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      profile: { type: 'string', default: 'smoke' },
      connections: { type: 'string', short: 'C' },
      rate: { type: 'string', short: 'R' },
      duration: { type: 'string', short: 'D' },
      users: { type: 'string' },
      'group-size': { type: 'string' },
      phases: { type: 'string' },
      'no-baselines': { type: 'boolean', default: false },
      'soak-sec': { type: 'string' },
      'warmup-sec': { type: 'string' },
      'idle-ttl-sec': { type: 'string' },
      'max-concurrency': { type: 'string' },
      ws: { type: 'string' },
      http: { type: 'string' },
      target: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      'push-slow': { type: 'string' },
      'push-status': { type: 'string' },
      'services-warmup': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const base = (profiles as Record<string, Profile | undefined>)[values.profile];
  if (!base) throw new Error(`unknown profile ${values.profile} (smoke, full or rates)`);
  const profile: Profile = structuredClone(base);
  // a flag's positive number (kit's check); a mistake throws, and the command line prints it (cli.ts)
  const num = (v: string | undefined, name: string): number | undefined =>
    numberFlag(v, name, (message) => {
      throw new Error(message);
    });
  const C = num(values.connections, '-C');
  const R = num(values.rate, '-R');
  const D = num(values.duration, '-D');
  if (C !== undefined || R !== undefined || D !== undefined) {
    const first = profile.phases.find((p): p is LoadPhase => p.kind === 'load');
    const phase: LoadPhase = {
      kind: 'load',
      name: 'custom',
      connections: Math.round(C ?? first?.connections ?? 100),
      rate: R ?? first?.rate ?? 100,
      durationSec: D ?? first?.durationSec ?? 30,
      verifyHistory: true,
      checkUnread: true,
      drainTimeoutSec: 60,
      warmupSec: num(values['warmup-sec'], '--warmup-sec') ?? 5,
    };
    profile.phases = [phase];
    profile.name = `${profile.name}-custom`;
    if (values.users === undefined) profile.users = Math.min(phase.connections, profile.users);
  }
  const idleTtl = num(values['idle-ttl-sec'], '--idle-ttl-sec');
  if (idleTtl !== undefined) profile.idleEnvironmentTtlSec = idleTtl;
  const users = num(values.users, '--users');
  if (users !== undefined) profile.users = Math.round(users);
  const groupSize = num(values['group-size'], '--group-size');
  if (groupSize !== undefined) profile.groupSize = Math.round(groupSize);
  if (values.phases) {
    const keep = new Set(values.phases.split(','));
    profile.phases = profile.phases.filter((p) => keep.has(p.name));
    if (profile.phases.length === 0) throw new Error(`no phase named ${values.phases} in ${base.name}`);
    profile.name = `${profile.name}-${values.phases.replace(/,/g, '+')}`;
  }
  const soakSec = num(values['soak-sec'], '--soak-sec');
  if (soakSec !== undefined) {
    // A shorter (or longer) soak, named after its length: soak-<rate>x<seconds>.
    for (const p of profile.phases) {
      if (p.kind !== 'load' || !p.name.startsWith('soak-')) continue;
      p.durationSec = Math.round(soakSec);
      p.name = `soak-${p.rate}x${p.durationSec}`;
    }
  }
  if (values['no-baselines']) profile.baselines = null;
  const mcRaw = values['max-concurrency'];
  if (mcRaw?.includes('=')) {
    // fn=n,fn=n: per function (the others keep the runtime's default, defaultMaxConcurrency)
    const perFn: Record<string, number> = {};
    for (const part of mcRaw.split(',')) {
      const [fn, n] = part.split('=');
      const v = num(n, `--max-concurrency ${fn}`);
      if (!fn || v === undefined) throw new Error(`--max-concurrency: bad entry ${part}`);
      perFn[fn] = Math.round(v);
    }
    profile.maxConcurrency = perFn;
  } else {
    const mc = num(mcRaw, '--max-concurrency');
    if (mc !== undefined) profile.maxConcurrency = Math.round(mc);
  }
  let ws = values.ws;
  let http = values.http;
  if (values.target !== undefined) {
    if (ws !== undefined || http !== undefined) throw new Error('--target replaces --ws and --http');
    [ws, http] = parseTarget(values.target);
  }
  if ((ws === undefined) !== (http === undefined)) throw new Error('--ws and --http go together');
  const pushSlow = num(values['push-slow'], '--push-slow');
  const pushStatus = num(values['push-status'], '--push-status');
  if (pushStatus !== undefined && (!Number.isInteger(pushStatus) || pushStatus < 200 || pushStatus > 599))
    throw new Error(`--push-status must be an HTTP status, got ${pushStatus}`);
  const push =
    pushSlow !== undefined || pushStatus !== undefined
      ? {
          ...(pushSlow !== undefined ? { delayMs: Math.round(pushSlow) } : {}),
          ...(pushStatus !== undefined ? { status: pushStatus } : {}),
        }
      : undefined;
  if (push) profile.name = `${profile.name}-push`;
  const rawWarmup = values['services-warmup'];
  const servicesWarmup = rawWarmup === undefined ? undefined : Number(rawWarmup);
  if (servicesWarmup !== undefined && !(Number.isFinite(servicesWarmup) && servicesWarmup >= 0))
    throw new Error(`--services-warmup must be a number of seconds ≥ 0, got ${rawWarmup}`);
  return {
    ...(push ? { push } : {}),
    ...(servicesWarmup !== undefined ? { servicesWarmupSec: Math.round(servicesWarmup) } : {}),
    profile,
    ...(ws ? { wsUrl: ws.replace(/\/$/, '') } : {}),
    ...(http ? { httpUrl: http.replace(/\/$/, '') } : {}),
    ...(values.out ? { outDir: values.out } : {}),
    seed: num(values.seed, '--seed') ?? Date.now() % 1_000_000,
  };
}

/** `--target ws://host:port,http://host:port`, in either order (told apart by scheme). */
export function parseTarget(value: string): [ws: string, http: string] {
  const parts = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const ws = parts.find((p) => /^wss?:\/\//.test(p));
  const http = parts.find((p) => /^https?:\/\//.test(p));
  if (parts.length !== 2 || !ws || !http)
    throw new Error(`--target wants ws://host:port,http://host:port, got ${value}`);
  return [ws, http];
}
