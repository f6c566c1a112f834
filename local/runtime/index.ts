/**
 * The local runtime: the project's unchanged Lambda handlers run as AWS would run them, behind an API Gateway
 * WebSocket API (+ management API), an HTTP API, a Kafka event source mapping and schedules. See
 * docs/local-runtime.md for the behaviour and docs/adr/0002-local-runtime.md for the decisions.
 *
 *   const rt = await startLocalRuntime({ wsPort: 0, httpPort: 0 });
 *   // rt.wsUrl, rt.httpUrl, rt.managementEndpoint, rt.invoke(...), rt.metrics(), rt.stop()
 */

import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { type TopicId, topics } from '@chat/functions/contracts';
import { ENV } from '@chat/functions/env';
import {
  functionDefs as tableFunctionDefs,
  httpRoutes as tableHttpRoutes,
  kafkaConsumers as tableKafkaConsumers,
  schedules as tableSchedules,
  wsRoutes as tableWsRoutes,
} from '@chat/functions/routes';
import { repoRoot } from '@chat/kit/paths';
import {
  createDeploymentTopics,
  DEFAULT_DEPLOYMENT,
  deleteDeploymentBucket,
  deleteDeploymentResources,
  deploymentBucket,
  deploymentNames,
  ensureDeploymentBucket,
  freshDeploymentId,
} from './deployment.ts';
import { HttpApi } from './http/server.ts';
import { apiId as newApiId } from './ids.ts';
import { KafkaEventSourceMappings, type KafkaMappingConfig } from './kafka/esm.ts';
import { bundleBootstrap, bundleFunctions, DEFAULT_EXTERNAL } from './lambda/bundle.ts';
import { LambdaService } from './lambda/service.ts';
import { createRuntimeLog, logMode, startSummary } from './logging.ts';
import {
  defaultLimits,
  type FunctionDefLike,
  type FunctionOverride,
  httpApiCors,
  LOCAL_RATE_LIMITS,
  type LocalRuntime,
  type LocalRuntimeOptions,
  type RuntimeLimits,
} from './options.ts';
import { type ApiSurface, rateExpression } from './parity.ts';
import { Scheduler } from './schedule.ts';
import { routeSelectionExpression } from './websocket/events.ts';
import { WebSocketApi } from './websocket/server.ts';

/**
 * Environments per function when the options name none: one per core, at least 2 and at most 4. Every
 * environment is an isolate of its own in this one process, with its own JIT and GC work; on the 2-core
 * reference machine 2 per function carried 178–182 msg/s at 9.6–9.8 ms of CPU per message where 4 carried
 * 147–174 msg/s at 10.3–12.3 ms (docs/benchmarks.md, issue 13 third pass). At least 2, so that one partition's
 * batch or one slow invocation never holds up a function's other work.
 */
export const defaultMaxConcurrency = (cores: number = availableParallelism()): number =>
  Math.min(4, Math.max(2, cores));

export { DEFAULT_DEPLOYMENT, type DeploymentNames, deploymentNames } from './deployment.ts';
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
export { RUNTIME_MALLOC_ENV } from './malloc.ts';
export {
  defaultLimits,
  type FunctionDefLike,
  type FunctionOverride,
  httpApiCors,
  LOCAL_RATE_LIMITS,
  type LocalRuntime,
  type LocalRuntimeOptions,
  type LogOption,
  type RouteTable,
  type RuntimeLimits,
} from './options.ts';
export type { ApiSurface } from './parity.ts';
export {
  checkVapid,
  type PushBehavior,
  type PushServiceEmulator,
  type ReceivedPush,
  startPushService,
} from './push-service.ts';
export type { ScheduleConfig } from './schedule.ts';
export { scheduledEvent } from './schedule.ts';

export { repoRoot };

const functionsSrc = resolve(repoRoot, 'functions/src');

/** A mapping's topic: a topic id of contracts/kafka.ts (this deployment's name for it) or a literal name. */
const resolveTopic = (topic: string, names: Readonly<Record<TopicId, string>>): string =>
  Object.hasOwn(names, topic) ? names[topic as TopicId] : topic;

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

export const startLocalRuntime = async (opts: LocalRuntimeOptions = {}): Promise<LocalRuntime> => {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const log = createRuntimeLog(opts.log, events);
  const host = opts.host ?? '127.0.0.1';
  const region = opts.region ?? opts.env?.[ENV.AWS_REGION] ?? process.env[ENV.AWS_REGION] ?? 'us-east-1';
  const accountId = opts.accountId ?? '123456789012';
  const limits: RuntimeLimits = { ...defaultLimits, ...opts.limits };
  const buildDir = opts.buildDir ?? resolve(repoRoot, '.local/build');
  const table = opts.routeTable ?? {};
  const defs: Readonly<Record<string, FunctionDefLike>> = table.functionDefs ?? tableFunctionDefs;
  const overrides = opts.functionOverrides ?? {};
  const lookupEnv = { ...process.env, ...opts.env };

  // ---- this runtime's deployment: its topics, consumer groups and Redis key prefix (deployment.ts)
  const wsPortOpt = opts.wsPort ?? 8080;
  const freshDeployment = opts.deploymentId === undefined && wsPortOpt === 0;
  const deploymentId = opts.deploymentId ?? (freshDeployment ? freshDeploymentId() : DEFAULT_DEPLOYMENT);
  const deployment = deploymentNames(deploymentId, opts.env ?? {}, process.env);
  const kafkaOpt = opts.kafka ?? true;
  const kafkaSettings = typeof kafkaOpt === 'object' ? kafkaOpt : {};
  const brokers =
    kafkaSettings.brokers ??
    (lookupEnv[ENV.KAFKA_BROKERS] ?? '127.0.0.1:9092').split(',').map((s) => s.trim());

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
      defaultMaxConcurrency();
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

  // ---- the deployment's topics, created while bundling runs; needed by the event source mapping (fatal
  // without them) and by functions that produce (best effort: a `kafka: false` runtime may run without Kafka)
  const consumers: readonly KafkaMappingConfig[] = table.kafkaConsumers ?? tableKafkaConsumers;
  const esmWanted = kafkaOpt !== false && consumers.some((m) => names.has(m.fn));
  const produces = resolved.some((f) =>
    (defs[f.name] as { uses?: readonly string[] } | undefined)?.uses?.includes('kafkaProduce'),
  );
  const topicsReady: Promise<string[]> =
    esmWanted || produces
      ? createDeploymentTopics(brokers, deployment).catch((e: unknown) => {
          if (esmWanted) throw e;
          log('runtime', `could not create the topics: ${e instanceof Error ? e.message : String(e)}`);
          return [];
        })
      : Promise.resolve([]);
  topicsReady.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile

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
    events,
    initTimeoutMs: limits.initTimeoutMs,
    runtime: opts.lambdaRuntime ?? 'nodejs24.x',
  });

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

  const bucket = deploymentBucket(deployment, { ...lookupEnv, [ENV.AWS_REGION]: region });
  // The bucket admits the origins the HTTP API admits (an e2e harness passes its web server's in `cors`).
  const bucketOrigins = opts.cors ? opts.cors.allowOrigins : webOrigins;
  const bucketReady = ensureDeploymentBucket(bucket, bucketOrigins, (line) => log('runtime', line));
  /** A fresh deployment's topics, derived consumer groups and bucket go with it (best effort, bounded). */
  const forget = async (topicNames: readonly string[], groups: readonly string[]): Promise<void> => {
    await Promise.all([
      deleteDeploymentResources(brokers, { topics: topicNames, groups }, (line) => log('runtime', line)),
      deployment.ownBucket && (await bucketReady)
        ? deleteDeploymentBucket(bucket, (line) => log('runtime', line))
        : undefined,
    ]);
  };
  const derivedGroups = (): string[] =>
    (esm?.mappings() ?? []).filter((m) => m.consumerGroupId === m.uuid).map((m) => m.consumerGroupId);

  // The ports listen at once and answer 503 (Retry-After: 1) until everything below is ready: never a 500
  // because a function is not deployed yet, never a message sent before its consumer is there.
  let bundles: Map<string, string>;
  let bootstrapPath: string;
  let createdTopics: string[];
  const listening = Promise.all([ws.listen(wsPortOpt, host), http.listen(opts.httpPort ?? 8081, host)]).then(
    () =>
      log(
        'runtime',
        `starting deployment ${deploymentId}: HTTP API http://${host}:${http.port}, WebSocket API ws://${host}:${ws.port} (503 until ready)`,
      ),
  );
  try {
    [[bootstrapPath, bundles], createdTopics] = await Promise.all([
      bundling,
      topicsReady,
      listening,
      bucketReady,
    ]);
  } catch (e) {
    await Promise.allSettled([ws.close(), http.close()]);
    if (freshDeployment) await forget(await topicsReady.catch(() => []), []);
    throw e;
  }
  const wsUrl = `ws://${host}:${ws.port}`;
  const httpUrl = `http://${host}:${http.port}`;
  const managementEndpoint = `http://${host}:${ws.port}`;

  Object.assign(baseEnv, { [ENV.RATE_LIMITS]: LOCAL_RATE_LIMITS }, hostEnv(), {
    [ENV.AWS_REGION]: region,
    AWS_DEFAULT_REGION: region,
    // Dummy credentials: the real SDK signs its requests, the emulator only checks that they are signed.
    AWS_ACCESS_KEY_ID: FUNCTION_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FUNCTION_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: 'local-runtime-dummy-session-token',
    NODE_OPTIONS: '--enable-source-maps',
    ...(opts.isolation === 'process' ? { TZ: ':UTC' } : {}),
    [ENV.WS_MANAGEMENT_ENDPOINT]: managementEndpoint,
    // Web Push (issue 15): locally, and only here, loopback endpoints are allowed (the push service emulator).
    [ENV.PUSH_ALLOW_LOOPBACK]: '1',
    ...deployment.env,
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
  const mappings = consumers
    .filter((m) => {
      if (lambda.has(m.fn)) return true;
      log('esm', `mapping for ${m.fn} skipped: function not deployed`);
      return false;
    })
    .map((m) => ({
      ...m,
      topic: resolveTopic(m.topic, deployment.topics),
      concurrency: m.concurrency ?? resolved.find((f) => f.name === m.fn)?.maxConcurrency ?? 1,
    }));
  let esm: KafkaEventSourceMappings | undefined;
  if (kafkaOpt !== false && mappings.length > 0) {
    const k = kafkaSettings;
    esm = new KafkaEventSourceMappings({
      deploymentId,
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
      if (freshDeployment) await forget(createdTopics, derivedGroups());
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

  const contractTopicName = (name: string): string => {
    const id = (Object.keys(deployment.topics) as TopicId[]).find((t) => deployment.topics[t] === name);
    return id ? topics[id].defaultName : name;
  };
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
        // The contract's name, as the template names it (on AWS a stack is a deployment).
        topic: contractTopicName(m.topic),
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

  ws.markReady();
  http.markReady();
  log('runtime', `deployment ${deploymentId} ready`);
  const stopSummary =
    logMode(opts.log) === 'summary'
      ? startSummary(log, { metrics: () => lambda.metrics(), connections: () => ws.openConnections })
      : undefined;

  let stopping: Promise<void> | undefined;
  return {
    wsUrl,
    httpUrl,
    managementEndpoint,
    wsPort: ws.port,
    httpPort: http.port,
    deploymentId,
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
        stopSummary?.();
        scheduler.stop();
        const esmStopped = esm?.stop();
        await Promise.allSettled([ws.close(), http.close()]);
        await lambda.stop();
        await esmStopped;
        if (freshDeployment) await forget(createdTopics, derivedGroups());
      })();
      return stopping;
    },
  };
};
