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
import { topics } from '@chat/functions/contracts';
import { ENV } from '@chat/functions/env';
import {
  functionDefs as tableFunctionDefs,
  httpRoutes as tableHttpRoutes,
  kafkaConsumers as tableKafkaConsumers,
  schedules as tableSchedules,
  wsRoutes as tableWsRoutes,
} from '@chat/functions/routes';
import { repoRoot } from '@chat/kit/paths';
import { HttpApi } from './http/server.ts';
import { apiId as newApiId } from './ids.ts';
import { KafkaEventSourceMappings, type KafkaMappingConfig } from './kafka/esm.ts';
import { bundleBootstrap, bundleFunctions, DEFAULT_EXTERNAL } from './lambda/bundle.ts';
import { LambdaService } from './lambda/service.ts';
import {
  defaultLimits,
  type FunctionDefLike,
  type FunctionOverride,
  httpApiCors,
  type LocalRuntime,
  type LocalRuntimeOptions,
  type LogOption,
  type RuntimeLimits,
} from './options.ts';
import { type ApiSurface, rateExpression } from './parity.ts';
import { Scheduler } from './schedule.ts';
import { routeSelectionExpression } from './websocket/events.ts';
import { WebSocketApi } from './websocket/server.ts';

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
export {
  defaultLimits,
  type FunctionDefLike,
  type FunctionOverride,
  httpApiCors,
  type LocalRuntime,
  type LocalRuntimeOptions,
  type LogOption,
  type RouteTable,
  type RuntimeLimits,
} from './options.ts';
export type { ApiSurface } from './parity.ts';
export type { ScheduleConfig } from './schedule.ts';
export { scheduledEvent } from './schedule.ts';

export { repoRoot };

const functionsSrc = resolve(repoRoot, 'functions/src');

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
  const region = opts.region ?? opts.env?.[ENV.AWS_REGION] ?? process.env[ENV.AWS_REGION] ?? 'us-east-1';
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
  const webOrigins = (lookupEnv[ENV.WEB_ORIGIN] || 'http://localhost:3000')
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
    [ENV.AWS_REGION]: region,
    AWS_DEFAULT_REGION: region,
    // Dummy credentials: the real SDK signs its requests, the emulator only checks that they are signed.
    AWS_ACCESS_KEY_ID: FUNCTION_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FUNCTION_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: 'local-runtime-dummy-session-token',
    NODE_OPTIONS: '--enable-source-maps',
    ...(opts.isolation === 'process' ? { TZ: ':UTC' } : {}),
    [ENV.WS_MANAGEMENT_ENDPOINT]: managementEndpoint,
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
      k.brokers ?? (lookupEnv[ENV.KAFKA_BROKERS] ?? '127.0.0.1:9092').split(',').map((s) => s.trim());
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

  const surface = (): ApiSurface => {
    const cors = http.cors;
    return {
      ws: {
        routeSelectionExpression,
        routes: ws.routes.map(({ routeKey, fn, returnResponse }) => ({ routeKey, fn, returnResponse })),
      },
      http: {
        routes: http.routes.map(({ method, path, fn }) => ({ method, path, fn })),
        cors: cors && {
          allowMethods: cors.allowMethods,
          allowHeaders: cors.allowHeaders,
          exposeHeaders: cors.exposeHeaders,
          maxAgeSeconds: cors.maxAgeSeconds,
          allowCredentials: cors.allowCredentials,
        },
      },
      kafka: (esm ? mappings : []).map((m) => ({
        fn: m.fn,
        topic: m.topic,
        batchSize: m.batchSize,
        batchingWindowSeconds: m.batchingWindowSeconds,
        startingPosition: m.startingPosition,
        maximumRetryAttempts: m.maximumRetryAttempts ?? -1,
        bisectBatchOnFunctionError: false,
      })),
      schedules: (schedOpt === false ? [] : scheduler.schedules).map((s) => ({
        fn: s.fn,
        expression: rateExpression(s.everySeconds),
      })),
    };
  };

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
    surface,
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
