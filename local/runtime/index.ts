/**
 * The local runtime: the project's unchanged Lambda handlers run as AWS would run them, behind an API Gateway
 * WebSocket API (+ management API), an HTTP API, a Kafka event source mapping and schedules. See
 * docs/local-runtime.md for the behaviour and docs/adr/0002-local-runtime.md for the decisions.
 *
 *   const rt = await startLocalRuntime({ wsPort: 0, httpPort: 0 });
 *   // rt.wsUrl, rt.httpUrl, rt.managementEndpoint, rt.invoke(...), rt.metrics(), rt.stop()
 */

import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isAbsolute, resolve } from 'node:path';
import { limits as contractLimits, topics } from '@chat/functions/contracts';
import {
  type FunctionDef,
  functionDefs as tableFunctionDefs,
  httpRoutes as tableHttpRoutes,
  kafkaConsumers as tableKafkaConsumers,
  schedules as tableSchedules,
  wsRoutes as tableWsRoutes,
} from '@chat/functions/routes';
import { repoRoot } from '@chat/kit/paths';
import type { HttpRouteLike } from './http/events.ts';
import { type CorsConfig, HttpApi } from './http/server.ts';
import { apiId as newApiId } from './ids.ts';
import { KafkaEventSourceMappings, type KafkaMappingConfig, type KafkaMappingInfo } from './kafka/esm.ts';
import { bundleBootstrap, bundleFunctions, DEFAULT_EXTERNAL } from './lambda/bundle.ts';
import type { Isolation } from './lambda/environment.ts';
import {
  type EnvironmentInfo,
  type FunctionMetrics,
  type InvocationResult,
  type KillTarget,
  LambdaService,
} from './lambda/service.ts';
import { type ScheduleConfig, Scheduler } from './schedule.ts';
import { WebSocketApi, type WsDispatch, type WsLimits, type WsRouteLike } from './websocket/server.ts';

export type { CorsConfig } from './http/server.ts';
export type { KafkaMappingConfig, KafkaMappingInfo } from './kafka/esm.ts';
export type {
  DurationSummary,
  EnvironmentInfo,
  FunctionMetrics,
  InvocationResult,
  InvokeEndEvent,
  InvokeStartEvent,
  KillTarget,
} from './lambda/service.ts';
export type { ScheduleConfig } from './schedule.ts';
export { scheduledEvent } from './schedule.ts';

export { repoRoot };

const functionsSrc = resolve(repoRoot, 'functions/src');

export interface RuntimeLimits extends WsLimits {
  /** HTTP API request body limit (10 MB). Over ⇒ 413. */
  readonly httpBodyMaxBytes: number;
  /** HTTP API integration timeout (30 s). Over ⇒ 503. */
  readonly httpIntegrationTimeoutMs: number;
  /** Lambda init phase limit (10 s). */
  readonly initTimeoutMs: number;
}

export const defaultLimits: RuntimeLimits = {
  frameMaxBytes: contractLimits.wsFrameMaxBytes,
  messageMaxBytes: contractLimits.wsMessageMaxBytes,
  idleTimeoutMs: contractLimits.wsIdleTimeoutMs,
  maxDurationMs: contractLimits.wsMaxDurationMs,
  integrationTimeoutMs: 29_000,
  postMaxBytes: 131_072,
  clientBufferLimitBytes: 1024 * 1024,
  httpBodyMaxBytes: 10 * 1024 * 1024,
  httpIntegrationTimeoutMs: 30_000,
  initTimeoutMs: 10_000,
};

/** The HTTP API's CORS configuration, as the CDK HTTP API sets `corsPreflight` (infra/lib/constructs/http-api.ts). */
export const httpApiCors = (webOrigins: readonly string[]): CorsConfig => ({
  allowOrigins: webOrigins,
  allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  allowHeaders: ['authorization', 'content-type'],
  exposeHeaders: [],
  maxAgeSeconds: 3600,
  allowCredentials: false,
});

export interface FunctionOverride {
  /** Handler file: absolute, or relative to the repository root. */
  readonly entry?: string;
  readonly timeoutSeconds?: number;
  readonly memoryMb?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly maxConcurrency?: number;
}

/** A function definition as in the route table, `entry` relative to functions/src (or absolute). */
export type FunctionDefLike = Pick<FunctionDef, 'entry' | 'timeoutSeconds' | 'memoryMb'>;

/** The route table the runtime dispatches from; each part defaults to functions/src/contracts/routes.ts. */
export interface RouteTable {
  readonly functionDefs?: Readonly<Record<string, FunctionDefLike>>;
  readonly wsRoutes?: readonly WsRouteLike[];
  readonly httpRoutes?: readonly HttpRouteLike[];
  /** `topic` is a topic id of contracts/kafka.ts (resolved through its env var) or a literal topic name. */
  readonly kafkaConsumers?: readonly KafkaMappingConfig[];
  readonly schedules?: readonly ScheduleConfig[];
}

export type LogOption = 'inherit' | 'silent' | ((source: string, line: string) => void);

export interface LocalRuntimeOptions {
  /** WebSocket API and management API port (default 8080; 0 = any free port). */
  readonly wsPort?: number;
  /** HTTP API port (default 8081; 0 = any free port). */
  readonly httpPort?: number;
  /** Interface to bind (default 127.0.0.1). */
  readonly host?: string;
  /** Extra environment variables for every function (over the process env and the runtime's own). */
  readonly env?: Readonly<Record<string, string>>;
  /** Per function: another handler file (a path) or other settings. Overridden functions are always deployed. */
  readonly functionOverrides?: Readonly<Record<string, string | FunctionOverride>>;
  /** Which functions to deploy: `'all'` (default) or a list of names. */
  readonly functions?: 'all' | readonly string[];
  /** Replace parts of the route table (tests). */
  readonly routeTable?: RouteTable;
  readonly limits?: Partial<RuntimeLimits>;
  /** Bundle as ESM (default, `.mjs`) or CommonJS (`.cjs`). */
  readonly esm?: boolean;
  /** Execution environments as worker threads (default) or child processes. */
  readonly isolation?: Isolation;
  /** Environments per function at most (default 4), or per function name. */
  readonly maxConcurrency?: number | Readonly<Record<string, number>>;
  /** An idle environment is reclaimed after this many ms (default 10 min; 0 = never). */
  readonly idleEnvironmentTtlMs?: number;
  /** WebSocket frames of one connection: dispatched concurrently like AWS (default) or one at a time. */
  readonly wsDispatch?: WsDispatch;
  /** WebSocket API stage name (default `local`). */
  readonly stage?: string;
  /** HTTP API CORS; default `httpApiCors(WEB_ORIGIN)`; `false` disables. */
  readonly cors?: CorsConfig | false;
  /** Kafka event source mappings (default on when the route table has consumers). */
  readonly kafka?:
    | boolean
    | {
        readonly brokers?: readonly string[];
        /** First retry delay after a function error (default 1 s), doubling up to retryMaxMs (default 60 s). */
        readonly retryBaseMs?: number;
        readonly retryMaxMs?: number;
      };
  /** Scheduled functions (default on); `{ everySeconds }` overrides every period locally. */
  readonly schedules?:
    | boolean
    | { readonly everySeconds?: number; readonly retryDelaysMs?: readonly number[] };
  /** Where platform and function logs go (default: this process's stdout, prefixed with the source). */
  readonly log?: LogOption;
  /** Bundle output folder (default `<repo>/.local/build`). */
  readonly buildDir?: string;
  readonly region?: string;
  readonly accountId?: string;
  /**
   * Lambda runtime emulated (default `nodejs24.x`, the CDK house function's `chatRuntime`): from 24 on,
   * callback-style handlers fail at init with Runtime.CallbackHandlerDeprecated, as on AWS.
   */
  readonly lambdaRuntime?: 'nodejs20.x' | 'nodejs22.x' | 'nodejs24.x';
  /** Minify bundles (default true, like the CDK house function). */
  readonly minify?: boolean;
  /**
   * Identity of this local "deployment". Event source mapping UUIDs, hence the default Kafka consumer groups,
   * derive from it, so two runtimes never share a group (each would get half the partitions). Default:
   * `port-<wsPort>` for a fixed port (a restarted `npm start` resumes its offsets), a random id for port 0 (a
   * test's runtime is a new deployment: a new group that starts at the mapping's StartingPosition).
   */
  readonly deploymentId?: string;
}

export interface LocalRuntime {
  /** `ws://127.0.0.1:<port>` */
  readonly wsUrl: string;
  /** `http://127.0.0.1:<port>` */
  readonly httpUrl: string;
  /** `http://127.0.0.1:<wsPort>`: give it to `ApiGatewayManagementApiClient({ endpoint })`. */
  readonly managementEndpoint: string;
  readonly wsPort: number;
  readonly httpPort: number;
  /** The environment every function gets (before its per-function variables). */
  readonly env: Readonly<Record<string, string>>;
  /** Names of the deployed functions. */
  readonly functions: readonly string[];
  /** `invokeStart`, `invokeEnd` (InvokeStartEvent / InvokeEndEvent) and `log` ({ source, line }). */
  readonly events: EventEmitter;
  /** Synchronous invocation of a deployed function with any event (like `aws lambda invoke`). */
  invoke(fn: string, event: unknown): Promise<InvocationResult>;
  /** Kills a function's environments: `busy` (default: mid-invocation), `idle`, `all`, or one environment id. */
  killEnvironment(fn: string, which?: KillTarget): Promise<number>;
  environments(fn: string): EnvironmentInfo[];
  metrics(): Record<string, FunctionMetrics>;
  resetMetrics(): void;
  /** Open WebSocket connection ids. */
  connections(): string[];
  /**
   * Drops a WebSocket connection without a close frame (the network went away; code 1006). `$disconnect` is
   * still sent unless `sendDisconnect: false` (AWS delivers it on a best-effort basis only).
   */
  dropConnection(connectionId: string, opts?: { readonly sendDisconnect?: boolean }): boolean;
  kafkaMappings(): KafkaMappingInfo[];
  /** Runs a scheduled function now, as its schedule would. */
  runSchedule(fn: string): Promise<InvocationResult>;
  /** Rebundles every function and deploys the new code (new environments; busy ones finish first). */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

const resolveTopic = (topic: string, env: Readonly<Record<string, string | undefined>>): string => {
  const def = (topics as Record<string, { envVar: string; defaultName: string }>)[topic];
  if (!def) return topic;
  const v = env[def.envVar];
  return v === undefined || v === '' ? def.defaultName : v;
};

/**
 * The dummy credentials every execution environment gets: the real SDK (and our push client) sign with them,
 * and the `@connections` emulator verifies those signatures.
 */
export const FUNCTION_CREDENTIALS = {
  accessKeyId: 'AKIALOCALRUNTIME0000',
  secretAccessKey: 'local-runtime-dummy-secret-access-key',
} as const;

const hostEnv = (): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out[k] = v;
  // Never hand the host's real AWS identity to local functions; dummies follow.
  for (const k of [
    'AWS_PROFILE',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'NODE_OPTIONS',
  ]) {
    delete out[k];
  }
  return out;
};

const makeLog = (opt: LogOption | undefined, events: EventEmitter) => {
  const sink =
    opt === 'silent'
      ? undefined
      : typeof opt === 'function'
        ? opt
        : (source: string, line: string) => process.stdout.write(`[${source}] ${line}\n`);
  return (source: string, line: string): void => {
    sink?.(source, line);
    if (events.listenerCount('log') > 0) events.emit('log', { source, line });
  };
};

export const startLocalRuntime = async (opts: LocalRuntimeOptions = {}): Promise<LocalRuntime> => {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const log = makeLog(opts.log, events);
  const host = opts.host ?? '127.0.0.1';
  const region = opts.region ?? opts.env?.AWS_REGION ?? process.env.AWS_REGION ?? 'us-east-1';
  const accountId = opts.accountId ?? '123456789012';
  const limits: RuntimeLimits = { ...defaultLimits, ...opts.limits };
  const buildDir = opts.buildDir ?? resolve(repoRoot, '.local/build');
  const table = opts.routeTable ?? {};
  const defs: Readonly<Record<string, FunctionDefLike>> = table.functionDefs ?? tableFunctionDefs;
  const overrides = opts.functionOverrides ?? {};
  const lookupEnv = { ...process.env, ...opts.env };

  // ---- which functions, from which files
  const names = new Set<string>(
    opts.functions === undefined || opts.functions === 'all' ? Object.keys(defs) : opts.functions,
  );
  for (const n of Object.keys(overrides)) names.add(n);
  const resolved = [...names].map((name) => {
    const o = overrides[name];
    const ov: FunctionOverride = typeof o === 'string' ? { entry: o } : (o ?? {});
    const def = defs[name];
    if (!def && !ov.entry)
      throw new Error(
        `local runtime: unknown function "${name}" (not in the route table, no override entry)`,
      );
    const entry = ov.entry
      ? isAbsolute(ov.entry)
        ? ov.entry
        : resolve(repoRoot, ov.entry)
      : resolve(functionsSrc, def?.entry ?? '');
    const maxConcurrency =
      ov.maxConcurrency ??
      (typeof opts.maxConcurrency === 'number' ? opts.maxConcurrency : opts.maxConcurrency?.[name]) ??
      4;
    return {
      name,
      entry,
      timeoutSeconds: ov.timeoutSeconds ?? def?.timeoutSeconds ?? 3,
      memoryMb: ov.memoryMb ?? def?.memoryMb ?? 128,
      env: ov.env ?? {},
      maxConcurrency,
    };
  });

  // ---- bundle (like `cdk synth` does) while the servers come up
  const bundleAll = () =>
    bundleFunctions(
      resolved.map((f) => ({ name: f.name, entry: f.entry })),
      {
        outRoot: buildDir,
        format: opts.esm === false ? 'cjs' : 'esm',
        external: DEFAULT_EXTERNAL,
        minify: opts.minify ?? true,
      },
    );
  const bundling = Promise.all([bundleBootstrap(buildDir), bundleAll()]);

  // Filled in once the ports are known, before any invocation can happen.
  const baseEnv: Record<string, string> = {};
  const lambda = new LambdaService({
    isolation: opts.isolation ?? 'worker',
    bootstrapPath: '',
    region,
    accountId,
    baseEnv,
    log,
    idleTtlMs: opts.idleEnvironmentTtlMs ?? 10 * 60 * 1000,
    initTimeoutMs: limits.initTimeoutMs,
    runtime: opts.lambdaRuntime ?? 'nodejs24.x',
  });
  lambda.events.on('invokeStart', (e) => events.emit('invokeStart', e));
  lambda.events.on('invokeEnd', (e) => events.emit('invokeEnd', e));

  const ws = new WebSocketApi({
    lambda,
    routes: table.wsRoutes ?? tableWsRoutes,
    limits,
    api: { apiId: newApiId(), stage: opts.stage ?? 'local' },
    dispatch: opts.wsDispatch ?? 'concurrent',
    log,
    verifySignatures: { credentials: FUNCTION_CREDENTIALS, region },
  });
  const webOrigins = (lookupEnv.WEB_ORIGIN || 'http://localhost:3000')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const http = new HttpApi({
    lambda,
    routes: table.httpRoutes ?? tableHttpRoutes,
    api: { apiId: newApiId(), accountId },
    cors: opts.cors === false ? undefined : (opts.cors ?? httpApiCors(webOrigins)),
    limits: { bodyMaxBytes: limits.httpBodyMaxBytes, integrationTimeoutMs: limits.httpIntegrationTimeoutMs },
    log,
  });

  let bundles: Map<string, string>;
  let bootstrapPath: string;
  try {
    [[bootstrapPath, bundles]] = await Promise.all([
      bundling,
      ws.listen(opts.wsPort ?? 8080, host),
      http.listen(opts.httpPort ?? 8081, host),
    ]);
  } catch (e) {
    await Promise.allSettled([ws.close(), http.close()]);
    throw e;
  }
  const wsUrl = `ws://${host}:${ws.port}`;
  const httpUrl = `http://${host}:${http.port}`;
  const managementEndpoint = `http://${host}:${ws.port}`;

  Object.assign(baseEnv, hostEnv(), {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    // Dummy credentials: the real SDK signs its requests, the emulator only checks that they are signed.
    AWS_ACCESS_KEY_ID: FUNCTION_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FUNCTION_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: 'local-runtime-dummy-session-token',
    NODE_OPTIONS: '--enable-source-maps',
    ...(opts.isolation === 'process' ? { TZ: ':UTC' } : {}),
    WS_MANAGEMENT_ENDPOINT: managementEndpoint,
    ...opts.env,
  });
  lambda.setBootstrapPath(bootstrapPath);
  const deployAll = (built: Map<string, string>): void => {
    for (const f of resolved) {
      const bundlePath = built.get(f.name);
      if (!bundlePath) throw new Error(`local runtime: no bundle for ${f.name}`);
      lambda.deploy({ ...f, bundlePath });
    }
  };
  deployAll(bundles);

  // ---- Kafka event source mappings
  const kafkaOpt = opts.kafka ?? true;
  const consumers: readonly KafkaMappingConfig[] = table.kafkaConsumers ?? tableKafkaConsumers;
  const mappings = consumers
    .filter((m) => {
      if (lambda.has(m.fn)) return true;
      log('esm', `mapping for ${m.fn} skipped: function not deployed`);
      return false;
    })
    .map((m) => ({
      ...m,
      topic: resolveTopic(m.topic, lookupEnv),
      concurrency: m.concurrency ?? resolved.find((f) => f.name === m.fn)?.maxConcurrency ?? 1,
    }));
  let esm: KafkaEventSourceMappings | undefined;
  if (kafkaOpt !== false && mappings.length > 0) {
    const k = typeof kafkaOpt === 'object' ? kafkaOpt : {};
    const brokers =
      k.brokers ?? (lookupEnv.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((s) => s.trim());
    const wsPortOpt = opts.wsPort ?? 8080;
    esm = new KafkaEventSourceMappings({
      deploymentId: opts.deploymentId ?? (wsPortOpt === 0 ? randomUUID() : `port-${wsPortOpt}`),
      brokers,
      lambda,
      mappings,
      region,
      accountId,
      retryBaseMs: k.retryBaseMs ?? 1_000,
      retryMaxMs: k.retryMaxMs ?? 60_000,
      log,
    });
    try {
      await esm.start();
    } catch (e) {
      await Promise.allSettled([esm.stop(), ws.close(), http.close(), lambda.stop()]);
      throw e;
    }
  }

  // ---- schedules
  const schedOpt = opts.schedules ?? true;
  const schedOpts = typeof schedOpt === 'object' ? schedOpt : {};
  const scheduler = new Scheduler({
    lambda,
    schedules: (table.schedules ?? tableSchedules).filter((s) => lambda.has(s.fn)),
    region,
    accountId,
    everySecondsOverride: schedOpts.everySeconds,
    retryDelaysMs: schedOpts.retryDelaysMs ?? [60_000, 120_000],
    log,
  });
  if (schedOpt !== false) scheduler.start();

  let stopping: Promise<void> | undefined;
  return {
    wsUrl,
    httpUrl,
    managementEndpoint,
    wsPort: ws.port,
    httpPort: http.port,
    env: baseEnv,
    functions: lambda.names(),
    events,
    invoke: (fn, event) => lambda.invoke(fn, event),
    killEnvironment: (fn, which) => lambda.killEnvironment(fn, which),
    environments: (fn) => lambda.environments(fn),
    metrics: () => lambda.metrics(),
    resetMetrics: () => lambda.resetMetrics(),
    connections: () => ws.connectionIds(),
    dropConnection: (id, o) => ws.dropConnection(id, o),
    kafkaMappings: () => esm?.mappings() ?? [],
    runSchedule: (fn) => scheduler.run(fn),
    reload: async () => {
      deployAll(await bundleAll());
      log('runtime', `redeployed ${resolved.length} function(s)`);
    },
    stop: () => {
      stopping ??= (async () => {
        scheduler.stop();
        const esmStopped = esm?.stop();
        await Promise.allSettled([ws.close(), http.close()]);
        await lambda.stop();
        await esmStopped;
      })();
      return stopping;
    },
  };
};
