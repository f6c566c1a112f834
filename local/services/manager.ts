/**
 * The services manager: brings Redis, Kafka, Cassandra and S3 (versitygw) up (reusing what already answers,
 * else Docker compose, else native processes), reports their status, stops what it started, and applies the CQL schema and the Kafka
 * topics. Used by `npm run services` (cli.ts), the vitest global setup and the dev orchestrator.
 */

import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ENV } from '@chat/functions/env';
import { config } from '@chat/functions/operations';
import { cassandraDriver } from './cassandra.ts';
import { kafkaDriver } from './kafka.ts';
import { redisDriver } from './redis.ts';
import { consoleReporter } from './reporter.ts';
import { s3Credentials, s3Driver } from './s3.ts';
import { applySchemaFor, type SchemaResult } from './schema.ts';
import { clearState, ownedPid, readState, writeState } from './state.ts';
import {
  defaultCacheDir,
  defaultStateDir,
  isAlive,
  repoRoot,
  run,
  stopProcess,
  tailFile,
  tcpOpen,
  which,
  withLock,
} from './support.ts';
import {
  type Addresses,
  type Context,
  type Driver,
  type Health,
  logFile,
  type Reporter,
  runDir,
  SERVICE_NAMES,
  type ServiceMode,
  type ServiceName,
} from './types.ts';

export type { Addresses, Reporter, SchemaResult, ServiceMode, ServiceName };
export { SERVICE_NAMES };

export const drivers: Record<ServiceName, Driver> = {
  redis: redisDriver,
  kafka: kafkaDriver,
  cassandra: cassandraDriver,
  s3: s3Driver,
};

export interface ManagerOptions {
  /** State folder (pid files, logs, data). Default: CHAT_LOCAL_DIR, else <repo>/.local. */
  readonly stateDir?: string;
  /** Download cache. Default: CHAT_LOCAL_CACHE, else ~/.cache/chat-local. */
  readonly cacheDir?: string;
  /** Addresses; each missing field comes from the env vars (REDIS_URL, KAFKA_BROKERS, CQL_*). */
  readonly addresses?: Partial<Addresses>;
  /** Which services (default: all three). */
  readonly services?: readonly ServiceName[];
  /**
   * How to start a service that does not answer yet. `auto` (default; env CHAT_SERVICES_MODE): Docker compose if an
   * engine answers, else native. A service already answering at its address is always used as it is.
   */
  readonly mode?: 'auto' | 'native' | 'docker';
  /** Progress output (default: the console). */
  readonly report?: Reporter;
  /** Max heap of the native JVMs (defaults: KAFKA_HEAP or 1g, CASSANDRA_HEAP or 1g). */
  readonly kafkaHeap?: string;
  readonly cassandraHeap?: string;
  /** `up` only: apply CQL migrations and Kafka topics once the services are healthy (default true). */
  readonly applySchema?: boolean;
}

export interface ServiceStatus {
  readonly name: ServiceName;
  /** `stopped` = nothing answers at the address. */
  readonly mode: ServiceMode | 'stopped';
  readonly address: string;
  /** Pid of the native process this manager started (absent for docker/external). */
  readonly pid?: number;
  readonly version?: string;
  readonly healthy: boolean;
  readonly detail: string;
  readonly logFile: string;
}

export function defaultAddresses(): Addresses {
  const brokers = config.kafkaBrokers();
  const brokerPort = Number(brokers[0]?.split(':').pop() ?? 9092);
  return {
    redisUrl: config.redisUrl(),
    kafkaBrokers: brokers,
    kafkaControllerPort: Number(process.env.KAFKA_CONTROLLER_PORT || brokerPort + 1),
    cqlContactPoints: config.cqlContactPoints(),
    cqlPort: config.cqlPort(),
    cqlStoragePort: Number(process.env.CQL_STORAGE_PORT || 7000),
    cqlKeyspace: config.cqlKeyspace(),
    cqlLocalDc: config.cqlLocalDc(),
    s3Endpoint: config.s3Endpoint(),
    s3Credentials: s3Credentials(),
  };
}

/** The env vars a child process (handler, emulator, test) needs to reach these services. */
export function serviceEnv(addresses: Partial<Addresses> = {}): Record<string, string> {
  const a = { ...defaultAddresses(), ...addresses };
  return {
    [ENV.REDIS_URL]: a.redisUrl,
    [ENV.KAFKA_BROKERS]: a.kafkaBrokers.join(','),
    [ENV.CQL_CONTACT_POINTS]: a.cqlContactPoints.join(','),
    [ENV.CQL_PORT]: String(a.cqlPort),
    [ENV.CQL_KEYSPACE]: a.cqlKeyspace,
    [ENV.CQL_LOCAL_DC]: a.cqlLocalDc,
    [ENV.S3_ENDPOINT]: a.s3Endpoint,
    [ENV.S3_ACCESS_KEY_ID]: a.s3Credentials.accessKeyId,
    [ENV.S3_SECRET_ACCESS_KEY]: a.s3Credentials.secretAccessKey,
  };
}

function makeContext(opts: ManagerOptions): Context {
  const stateDir = path.resolve(opts.stateDir ?? defaultStateDir());
  return {
    stateDir,
    cacheDir: path.resolve(opts.cacheDir ?? defaultCacheDir()),
    addresses: { ...defaultAddresses(), ...opts.addresses },
    report: opts.report ?? consoleReporter(),
    kafkaHeap: opts.kafkaHeap ?? (process.env.KAFKA_HEAP || '1g'),
    cassandraHeap: opts.cassandraHeap ?? (process.env.CASSANDRA_HEAP || '1g'),
  };
}

async function probe(driver: Driver, a: Addresses): Promise<Health> {
  const { host, port } = driver.hostPort(a);
  if (!(await tcpOpen(host, port, 800))) return { ok: false, detail: `nothing listening on ${host}:${port}` };
  return driver.probe(a);
}

const composeFile = () => path.join(repoRoot, 'localstack-compose.yml');

let dockerAnswer: Promise<boolean> | undefined;
/** Does a Docker engine answer (not just the CLI)? Asked once per process. */
export function dockerEngineAvailable(): Promise<boolean> {
  dockerAnswer ??= (async () => {
    if (!which('docker') || !existsSync(composeFile())) return false;
    const r = await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 5000 });
    return r.code === 0 && r.stdout.trim() !== '';
  })();
  return dockerAnswer;
}

function failure(ctx: Context, driver: Driver, why: string): Error {
  const file = logFile(ctx, driver.name);
  const tail = tailFile(file, 30);
  return new Error(
    `${driver.name}: ${why}\n--- last lines of ${file} ---\n${tail || '(empty)'}\n--- (npm run services -- logs ${driver.name}) ---`,
  );
}

async function waitHealthy(
  ctx: Context,
  driver: Driver,
  pid: number | undefined,
  t0: number,
): Promise<Health> {
  const deadline = t0 + driver.startTimeoutMs;
  let last: Health = { ok: false, detail: 'not probed' };
  while (Date.now() < deadline) {
    if (driver.settle) await driver.settle(ctx.addresses).catch(() => {});
    last = await probe(driver, ctx.addresses);
    if (last.ok) return last;
    if (last.misconfigured) throw failure(ctx, driver, last.detail);
    if (pid !== undefined && !isAlive(pid))
      throw failure(ctx, driver, `process ${pid} exited during start-up`);
    await delay(driver.name === 'redis' || driver.name === 's3' ? 200 : 1000);
  }
  throw failure(
    ctx,
    driver,
    `not healthy after ${Math.round(driver.startTimeoutMs / 1000)} s (last probe: ${last.detail})`,
  );
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

async function upOne(
  ctx: Context,
  driver: Driver,
  mode: 'auto' | 'native' | 'docker',
): Promise<ServiceStatus> {
  const t0 = Date.now();
  const a = ctx.addresses;
  const address = driver.address(a);
  const base = { name: driver.name, address, logFile: logFile(ctx, driver.name) };
  const state = await readState(ctx, driver.name);
  const owned = ownedPid(state, driver);
  const health = await probe(driver, a);

  if (health.misconfigured) {
    // Answers, but not as needed (Redis not in cluster mode): restart our own native instance, refuse others.
    if (!owned || state?.address !== address) throw new Error(`${driver.name}: ${health.detail}`);
    ctx.report.begin(driver.name, `pid ${owned} (ours) is misconfigured, restarting it: ${health.detail}`);
    await stopProcess(owned, 15_000);
    await clearState(ctx, driver.name);
    return upOne(ctx, driver, 'native');
  }

  if (health.ok) {
    const m: ServiceMode = owned ? 'native' : state?.mode === 'docker' ? 'docker' : 'external';
    if (m === 'external' && state) await clearState(ctx, driver.name);
    ctx.report.end(driver.name, `up (${m}${owned ? `, pid ${owned}` : ''}) at ${address}: ${health.detail}`);
    return { ...base, mode: m, pid: owned, version: state?.version, healthy: true, detail: health.detail };
  }

  if (owned) {
    // Ours and alive but not answering yet (still starting, e.g. after another `up` was interrupted): wait.
    ctx.report.begin(driver.name, `waiting for pid ${owned}`);
    const h = await waitHealthy(ctx, driver, owned, t0);
    ctx.report.end(driver.name, `up (native, pid ${owned}) in ${secs(Date.now() - t0)}: ${h.detail}`);
    return { ...base, mode: 'native', pid: owned, version: state?.version, healthy: true, detail: h.detail };
  }

  const { host, port } = driver.hostPort(a);
  if (await tcpOpen(host, port, 800))
    throw failure(
      ctx,
      driver,
      `${host}:${port} is taken by something that does not answer as ${driver.name}`,
    );

  const useDocker =
    driver.composeService !== '' &&
    (mode === 'docker' || (mode === 'auto' && (await dockerEngineAvailable())));
  if (useDocker) {
    ctx.report.begin(driver.name, `docker compose up ${driver.composeService}`);
    const r = await run('docker', ['compose', '-f', composeFile(), 'up', '-d', driver.composeService], {
      timeoutMs: 600_000,
    });
    if (r.code !== 0) throw new Error(`${driver.name}: docker compose up failed:\n${r.stderr}`);
    await writeState(ctx, driver.name, { mode: 'docker', address, startedAt: new Date().toISOString() });
    const h = await waitHealthy(ctx, driver, undefined, Date.now());
    ctx.report.end(
      driver.name,
      `up (docker: ${driver.composeService}) in ${secs(Date.now() - t0)}: ${h.detail}`,
    );
    return { ...base, mode: 'docker', healthy: true, detail: h.detail };
  }

  const version = await driver.prepare(ctx);
  const tStart = Date.now();
  ctx.report.begin(driver.name, `starting ${driver.name} ${version} (native)`);
  const pid = await driver.start(ctx, version);
  await writeState(ctx, driver.name, {
    mode: 'native',
    pid,
    version,
    address,
    startedAt: new Date().toISOString(),
  });
  ctx.report.begin(driver.name, `starting ${driver.name} ${version} (native, pid ${pid})`);
  const h = await waitHealthy(ctx, driver, pid, tStart);
  ctx.report.end(
    driver.name,
    `up (native ${version}, pid ${pid}) in ${secs(Date.now() - t0)} (start ${secs(Date.now() - tStart)}): ${h.detail}`,
  );
  return { ...base, mode: 'native', pid, version, healthy: true, detail: h.detail };
}

function selected(opts: ManagerOptions): ServiceName[] {
  const list = opts.services ?? SERVICE_NAMES;
  for (const n of list) if (!SERVICE_NAMES.includes(n)) throw new Error(`unknown service ${n}`);
  return [...list];
}

function resolveMode(opts: ManagerOptions): 'auto' | 'native' | 'docker' {
  const m = opts.mode ?? (process.env.CHAT_SERVICES_MODE as ManagerOptions['mode']) ?? 'auto';
  if (m !== 'auto' && m !== 'native' && m !== 'docker')
    throw new Error(`CHAT_SERVICES_MODE must be auto|native|docker`);
  return m;
}

async function collect<T>(tasks: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(tasks);
  const errors = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (errors.length > 0) {
    const msg = errors
      .map((e) => (e.reason instanceof Error ? e.reason.message : String(e.reason)))
      .join('\n\n');
    throw new Error(msg);
  }
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

export interface UpResult {
  readonly services: ServiceStatus[];
  readonly schema: SchemaResult;
  readonly env: Record<string, string>;
}

/**
 * Brings the selected services up (in parallel), waits until each answers, and (unless applySchema is false)
 * applies the CQL migrations and the Kafka topics. Idempotent: when everything answers it returns at once.
 * Serialized across processes by a lock in <state>/run/.
 */
export async function servicesUp(opts: ManagerOptions = {}): Promise<UpResult> {
  const ctx = makeContext(opts);
  const mode = resolveMode(opts);
  const names = selected(opts);
  const schema: { -readonly [K in keyof SchemaResult]: SchemaResult[K] } = {};
  try {
    const services = await withLock(
      path.join(runDir(ctx), 'manager.lock'),
      () =>
        collect(
          names.map(async (n) => {
            const status = await upOne(ctx, drivers[n], mode);
            if (opts.applySchema !== false) Object.assign(schema, await applySchemaFor(ctx, n));
            return status;
          }),
        ),
      { onWait: (pid) => ctx.report.line(`another services manager (pid ${pid}) is busy; waiting for it`) },
    );
    return { services, schema, env: serviceEnv(ctx.addresses) };
  } finally {
    if (!opts.report) ctx.report.close();
  }
}

/** Services up + schema + topics, leaving everything running. What the vitest global setup calls. */
export async function ensureServices(opts: ManagerOptions = {}): Promise<UpResult> {
  return servicesUp({ ...opts, applySchema: true });
}

/** Applies migrations and topics to services that already run. */
export async function applySchema(opts: ManagerOptions = {}): Promise<SchemaResult> {
  const ctx = makeContext(opts);
  try {
    const out: SchemaResult[] = [];
    for (const n of selected(opts)) out.push(await applySchemaFor(ctx, n));
    return Object.assign({}, ...out);
  } finally {
    if (!opts.report) ctx.report.close();
  }
}

/** Mode, address, pid and health of each selected service. Starts nothing. */
export async function servicesStatus(opts: ManagerOptions = {}): Promise<ServiceStatus[]> {
  const ctx = makeContext(opts);
  try {
    return await Promise.all(
      selected(opts).map(async (n): Promise<ServiceStatus> => {
        const driver = drivers[n];
        const state = await readState(ctx, n);
        const owned = ownedPid(state, driver);
        const h = await probe(driver, ctx.addresses);
        const mode: ServiceStatus['mode'] = owned
          ? 'native'
          : h.ok
            ? state?.mode === 'docker'
              ? 'docker'
              : 'external'
            : 'stopped';
        return {
          name: n,
          mode,
          address: driver.address(ctx.addresses),
          pid: owned,
          version: owned || mode === 'docker' ? state?.version : undefined,
          healthy: h.ok,
          detail: h.detail,
          logFile: logFile(ctx, n),
        };
      }),
    );
  } finally {
    if (!opts.report) ctx.report.close();
  }
}

export interface DownResult {
  readonly name: ServiceName;
  readonly action: 'stopped' | 'killed' | 'docker-stopped' | 'not-ours' | 'not-running';
}

/** Stops only what this manager started (native pids from <state>/run, docker services it brought up). */
export async function servicesDown(opts: ManagerOptions = {}): Promise<DownResult[]> {
  const ctx = makeContext(opts);
  try {
    return await withLock(path.join(runDir(ctx), 'manager.lock'), () =>
      Promise.all(
        selected(opts).map(async (n): Promise<DownResult> => {
          const driver = drivers[n];
          const state = await readState(ctx, n);
          const owned = ownedPid(state, driver);
          if (owned) {
            ctx.report.begin(n, `stopping pid ${owned}`);
            const r = await stopProcess(owned, n === 'cassandra' ? 30_000 : 15_000);
            await clearState(ctx, n);
            ctx.report.end(
              n,
              r === 'killed' ? `killed pid ${owned} (did not stop in time)` : `stopped pid ${owned}`,
            );
            return { name: n, action: r === 'killed' ? 'killed' : 'stopped' };
          }
          if (state?.mode === 'docker') {
            await run('docker', ['compose', '-f', composeFile(), 'stop', driver.composeService], {
              timeoutMs: 120_000,
            });
            await clearState(ctx, n);
            ctx.report.end(n, `docker compose stop ${driver.composeService}`);
            return { name: n, action: 'docker-stopped' };
          }
          if (state) await clearState(ctx, n);
          const h = await probe(driver, ctx.addresses);
          ctx.report.end(n, h.ok ? 'running but not started by this manager: left alone' : 'not running');
          return { name: n, action: h.ok ? 'not-ours' : 'not-running' };
        }),
      ),
    );
  } finally {
    if (!opts.report) ctx.report.close();
  }
}

/** The log file of a service (native mode). */
export function serviceLogFile(name: ServiceName, opts: Pick<ManagerOptions, 'stateDir'> = {}): string {
  return path.join(path.resolve(opts.stateDir ?? defaultStateDir()), 'logs', `${name}.log`);
}
