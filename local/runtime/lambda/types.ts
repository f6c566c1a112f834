/** The local Lambda service's public shapes: deployed functions, invocation results, metrics, events. */
import type { EventEmitter } from 'node:events';
import type { Isolation } from './environment.ts';
import type { LambdaError } from './protocol.ts';

/** Lambda's synchronous invocation payload limit (request and response), in bytes. */
export const LAMBDA_PAYLOAD_MAX_BYTES = 6 * 1024 * 1024;

export interface DeployedFunction {
  readonly name: string;
  /** Absolute path of the source entry (for messages). */
  readonly entry: string;
  /** Absolute path of the bundle. */
  readonly bundlePath: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Extra environment variables for this function (over the service's base env). */
  readonly env: Readonly<Record<string, string>>;
  readonly maxConcurrency: number;
}

export interface LambdaServiceOptions {
  readonly isolation: Isolation;
  readonly bootstrapPath: string;
  readonly region: string;
  readonly accountId: string;
  /** Environment shared by every function (host env, credentials, endpoints). */
  readonly baseEnv: Readonly<Record<string, string>>;
  /**
   * Function output and platform lines; START/END/REPORT go to its `detail` sink when it has one
   * (`../logging.ts`) and are only built when that sink is enabled.
   */
  readonly log: (source: string, line: string) => void;
  /** An idle environment is reclaimed after this long (Lambda: minutes). 0 = never. */
  readonly idleTtlMs: number;
  /** Init phase limit (Lambda: 10 s for on-demand functions). */
  readonly initTimeoutMs: number;
  /** Lambda runtime identifier emulated, e.g. `nodejs24.x`. */
  readonly runtime: string;
  /**
   * Where `invokeStart` / `invokeEnd` are emitted (default: an emitter of the service's own). Each is only
   * built while it has listeners.
   */
  readonly events?: EventEmitter;
}

export type InvocationResult =
  | {
      readonly ok: true;
      /** The function's result, parsed from its JSON payload (`null` for undefined). */
      readonly result: unknown;
      readonly requestId: string;
      readonly durationMs: number;
      readonly coldStart: boolean;
    }
  | {
      readonly ok: false;
      readonly error: LambdaError;
      readonly requestId: string;
      readonly durationMs: number;
      readonly coldStart: boolean;
      readonly timedOut: boolean;
    };

export interface DurationSummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export interface FunctionMetrics {
  readonly invocations: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly coldStarts: number;
  /** Init Duration of each cold start (spawn → handler module loaded), ms. */
  readonly initDurationsMs: readonly number[];
  /** Duration of each invocation, ms (latest 10,000). */
  readonly durationsMs: readonly number[];
  readonly init: DurationSummary;
  readonly duration: DurationSummary;
  readonly environments: { readonly total: number; readonly busy: number; readonly idle: number };
  /** CPU time the sandboxes used inside invocations, ms (Linux /proc ticks; 0 elsewhere). */
  readonly cpuMs: number;
}

export interface EnvironmentInfo {
  readonly id: string;
  readonly state: string;
  readonly invocations: number;
  readonly createdAt: number;
}

export type KillTarget = 'busy' | 'idle' | 'all' | (string & {});

/** Samples kept per metric series. */
export const SAMPLE_CAP = 10_000;

export const summarize = (xs: readonly number[]): DurationSummary => {
  if (xs.length === 0) return { count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] ?? 0;
  return {
    count: s.length,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    p50: q(0.5),
    p95: q(0.95),
    p99: q(0.99),
    max: s[s.length - 1] ?? 0,
  };
};

/** Emitted on `LambdaService.events` as `invokeStart`, when an invocation begins in a sandbox. */
export interface InvokeStartEvent {
  readonly fn: string;
  readonly requestId: string;
  readonly environmentId: string;
  readonly coldStart: boolean;
  /** The event object handed to the function. */
  readonly event: unknown;
}

/** Emitted on `LambdaService.events` as `invokeEnd`. */
export type InvokeEndEvent = InvocationResult & { readonly fn: string; readonly environmentId: string };
