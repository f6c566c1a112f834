/**
 * The local runtime's public shapes: its options (`LocalRuntimeOptions`), the handle `startLocalRuntime`
 * returns (`LocalRuntime`), the AWS limits it enforces and the HTTP API's CORS as CDK sets it.
 */
import type { EventEmitter } from 'node:events';
import { limits as contractLimits } from '@chat/functions/contracts';
import type { FunctionDef } from '@chat/functions/routes';
import type { HttpRouteLike } from './http/events.ts';
import type { CorsConfig } from './http/server.ts';
import type { KafkaMappingConfig, KafkaMappingInfo } from './kafka/esm.ts';
import type { Isolation } from './lambda/environment.ts';
import type { EnvironmentInfo, FunctionMetrics, InvocationResult, KillTarget } from './lambda/service.ts';
import type { LogOption } from './logging.ts';
import type { ApiSurface } from './parity.ts';
import type { ScheduleConfig } from './schedule.ts';
import type { WsDispatch, WsLimits, WsRouteLike } from './websocket/server.ts';

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

/**
 * The per-IP budgets a local runtime raises (RATE_LIMITS, contracts/limits.ts): every local client is
 * 127.0.0.1, so the AWS defaults (20 sign-ups per IP per hour…) would stop a test run or a demo. Per-user budgets
 * stay as on AWS. An explicit RATE_LIMITS (the process environment, or the runtime's `env` option) wins.
 */
export const LOCAL_RATE_LIMITS =
  'signupPerIp=1000000/3600,loginPerIp=1000000/900,loginFailuresPerIp=1000000/900';

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

export type { LogOption } from './logging.ts';

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
  /** Environments per function at most (default: one per core, 2 to 4: `defaultMaxConcurrency`), or per function name. */
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
  /**
   * Where platform and function logs go: `'verbose'` (default; `'inherit'` is the same) every line on stdout,
   * prefixed with the source; `'summary'` the same without the per-invocation lines (START/END/REPORT,
   * CONNECT/DISCONNECT) and a summary line every 5 s; `'silent'`; or a function that gets every line.
   */
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
   * This runtime's deployment (1-64 of A-Z a-z 0-9 _ -), as a stack is on AWS (deployment.ts). Its Kafka topics
   * (`<id>.chat.messages`, `<id>.chat.messages.dlq`, created at start), its consumer groups (the event source
   * mapping UUIDs derive from it) and its Redis key prefix (`<id>:`) are named after it, and the functions get
   * the names through KAFKA_TOPIC_MESSAGES, KAFKA_TOPIC_DLQ and REDIS_KEY_PREFIX (an `env` option naming them
   * wins). `default` keeps the contract's names and no prefix. Default: `default` for a fixed port (`npm
   * start`; a restart resumes its offsets), a fresh `rt-<hex>` for port 0 (a test's runtime, the bench), whose
   * topics and consumer groups are deleted again by `stop()`.
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
  /** This runtime's deployment id (`default` for `npm start`). */
  readonly deploymentId: string;
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
  /**
   * What this runtime serves, read from its running parts: WebSocket routes and route responses, HTTP routes
   * and CORS, the Kafka event source mappings it started and the schedules it runs (the parity test compares
   * it with the synthesized CDK template).
   */
  surface(): ApiSurface;
  /** Rebundles every function and deploys the new code (new environments; busy ones finish first). */
  reload(): Promise<void>;
  stop(): Promise<void>;
}
