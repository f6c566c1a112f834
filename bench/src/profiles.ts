/**
 * Bench profiles and the command line. `smoke` fits in a minute (it also runs inside `npm test`); `full` runs
 * every phase the issue asks for: latency at 1,000 msg/s over 2,000 connections, sustained throughput,
 * 10,000 idle connections, and a 10-minute soak.
 */
import { parseArgs } from 'node:util';

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
  baselines: BaselineCounts | null;
  phases: Phase[];
}

export const profiles: Record<'smoke' | 'full', Profile> = {
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
        name: 'latency-1000',
        connections: 2000,
        rate: 1000,
        durationSec: 60,
        verifyHistory: true,
        checkUnread: false,
        drainTimeoutSec: 60,
        warmupSec: 10,
      },
      {
        kind: 'load',
        name: 'throughput-5000',
        connections: 2000,
        rate: 5000,
        durationSec: 30,
        verifyHistory: true,
        checkUnread: false,
        drainTimeoutSec: 120,
        warmupSec: 5,
      },
      // Held 60 s: past the 30 s idle TTL, so the environments that opened the connections are reclaimed.
      { kind: 'idle', name: 'idle-10000', connections: 10_000, holdSec: 60 },
      {
        kind: 'load',
        name: 'soak-1000x600',
        connections: 2000,
        rate: 1000,
        durationSec: 600,
        verifyHistory: true,
        checkUnread: true,
        drainTimeoutSec: 60,
        warmupSec: 10,
      },
    ],
  },
};

export interface CliOptions {
  profile: Profile;
  /** Use a runtime that already runs (e.g. `npm start`) instead of starting one. */
  wsUrl?: string;
  httpUrl?: string;
  outDir?: string;
  seed: number;
}

const USAGE = `usage: npm run bench -- [--profile smoke|full] [-C connections] [-R msg/s] [-D seconds]
                         [--users N] [--group-size N] [--phases a,b] [--no-baselines] [--max-concurrency N]
                         [--ws ws://host:port --http http://host:port] [--out dir]

  --profile      smoke (default, under a minute) or full (latency, throughput, idle, soak)
  -C, -R, -D     replace the profile's load phases by one phase with C connections, R msg/s for D seconds
  --users        number of users signed up (connections are spread over them round robin)
  --phases       run only these phases of the profile (names as in the report)
  --no-baselines skip the raw Kafka/Redis/CQL/WebSocket baselines
  --max-concurrency  execution environments per function in the bench's runtime: N for all, or
                 fn=N,fn=N for some (default: the profile's; the runtime's default is 4)
  --ws, --http   target a runtime that already runs; otherwise the bench starts its own on free ports
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
      'max-concurrency': { type: 'string' },
      ws: { type: 'string' },
      http: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const base = profiles[values.profile as 'smoke' | 'full'];
  if (!base) throw new Error(`unknown profile ${values.profile}\n${USAGE}`);
  const profile: Profile = structuredClone(base);
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${v}`);
    return n;
  };
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
      warmupSec: 5,
    };
    profile.phases = [phase];
    profile.name = `${profile.name}-custom`;
    if (values.users === undefined) profile.users = Math.min(phase.connections, profile.users);
  }
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
  if (values['no-baselines']) profile.baselines = null;
  const mcRaw = values['max-concurrency'];
  if (mcRaw?.includes('=')) {
    // fn=n,fn=n: per function (the others keep the runtime's default of 4)
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
  if ((values.ws === undefined) !== (values.http === undefined))
    throw new Error('--ws and --http go together');
  return {
    profile,
    ...(values.ws ? { wsUrl: values.ws.replace(/\/$/, '') } : {}),
    ...(values.http ? { httpUrl: values.http.replace(/\/$/, '') } : {}),
    ...(values.out ? { outDir: values.out } : {}),
    seed: num(values.seed, '--seed') ?? Date.now() % 1_000_000,
  };
}
