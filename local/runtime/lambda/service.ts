/**
 * The local Lambda service: per function, a pool of execution environments that are reused (warm), scaled out
 * up to a maximum concurrency, each running one invocation at a time; the function timeout enforced by killing
 * and replacing the sandbox; START/END/REPORT lines like Lambda's; per-function metrics for the benchmark.
 */
import { EventEmitter } from 'node:events';
import { dirname } from 'node:path';
import { lambdaRequestId, logStreamName } from '../ids.ts';
import { type ExecutionEnvironment as Env, ExecutionEnvironment, type Isolation } from './environment.ts';
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
  readonly log: (source: string, line: string) => void;
  /** An idle environment is reclaimed after this long (Lambda: minutes). 0 = never. */
  readonly idleTtlMs: number;
  /** Init phase limit (Lambda: 10 s for on-demand functions). */
  readonly initTimeoutMs: number;
  /** Lambda runtime identifier emulated, e.g. `nodejs24.x`. */
  readonly runtime: string;
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

const SAMPLE_CAP = 10_000;

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

class FunctionPool {
  readonly envs = new Set<Env>();
  readonly idle: Env[] = [];
  readonly waiters: Array<() => void> = [];
  readonly idleTimers = new Map<Env, NodeJS.Timeout>();
  invocations = 0;
  errors = 0;
  timeouts = 0;
  coldStarts = 0;
  initDurations: number[] = [];
  durations: number[] = [];
  cpuMs = 0;

  constructor(
    public fn: DeployedFunction,
    private readonly svc: LambdaServiceOptions,
    private readonly events: EventEmitter,
  ) {}

  #envVars(stream: string): Record<string, string> {
    const { fn, svc } = this;
    return {
      ...svc.baseEnv,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: stream,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_EXECUTION_ENV: `AWS_Lambda_${svc.runtime}`,
      LAMBDA_TASK_ROOT: dirname(fn.bundlePath),
      _HANDLER: 'index.handler',
      ...fn.env,
    };
  }

  async #spawn(): Promise<{ env: Env; initDurationMs: number } | { error: LambdaError }> {
    const stream = logStreamName(Date.now());
    const env = new ExecutionEnvironment({
      init: {
        functionName: this.fn.name,
        bundlePath: this.fn.bundlePath,
        handlerExport: 'handler',
        memoryMb: this.fn.memoryMb,
        region: this.svc.region,
        accountId: this.svc.accountId,
        logGroupName: `/aws/lambda/${this.fn.name}`,
        logStreamName: stream,
        sourceMaps: true,
        maxResponseBytes: LAMBDA_PAYLOAD_MAX_BYTES,
        runtime: this.svc.runtime,
      },
      bootstrapPath: this.svc.bootstrapPath,
      isolation: this.svc.isolation,
      env: this.#envVars(stream),
      onLog: (line) => this.svc.log(this.fn.name, line),
    });
    this.envs.add(env);
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        env.start(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject({
                errorType: 'Sandbox.Timedout',
                errorMessage: `Init phase exceeded ${(this.svc.initTimeoutMs / 1000).toFixed(2)} seconds`,
              } satisfies LambdaError),
            this.svc.initTimeoutMs,
          );
        }),
      ]);
      return { env, initDurationMs: performance.now() - t0 };
    } catch (e) {
      await env.kill();
      this.envs.delete(env);
      this.#wake();
      const error = e as LambdaError;
      this.svc.log(
        this.fn.name,
        `INIT_REPORT Init Duration: ${(performance.now() - t0).toFixed(2)} ms\tPhase: init\tStatus: error\tError Type: ${error.errorType}`,
      );
      return { error };
    } finally {
      clearTimeout(timer);
    }
  }

  #wake(): void {
    this.waiters.shift()?.();
  }

  async #acquire(): Promise<{ env: Env; initDurationMs?: number } | { error: LambdaError }> {
    for (;;) {
      let env = this.idle.pop();
      while (env && env.state !== 'idle') env = this.idle.pop();
      if (env) {
        clearTimeout(this.idleTimers.get(env));
        this.idleTimers.delete(env);
        return { env };
      }
      if (this.envs.size < this.fn.maxConcurrency) return this.#spawn();
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  #release(env: Env): void {
    if (env.state === 'idle' && !env.retired) {
      this.idle.push(env);
      if (this.svc.idleTtlMs > 0) {
        const t = setTimeout(() => {
          const i = this.idle.indexOf(env);
          if (i >= 0) this.idle.splice(i, 1);
          this.idleTimers.delete(env);
          void env.kill().then(() => this.envs.delete(env));
        }, this.svc.idleTtlMs);
        t.unref();
        this.idleTimers.set(env, t);
      }
    } else {
      this.envs.delete(env);
      void env.kill();
    }
    this.#wake();
  }

  async invoke(eventJson: string, event: unknown): Promise<InvocationResult> {
    const requestId = lambdaRequestId();
    const acquired = await this.#acquire();
    this.invocations += 1;
    if ('error' in acquired) {
      this.errors += 1;
      return { ok: false, error: acquired.error, requestId, durationMs: 0, coldStart: true, timedOut: false };
    }
    const { env } = acquired;
    const cold = acquired.initDurationMs !== undefined;
    if (cold && acquired.initDurationMs !== undefined) {
      this.coldStarts += 1;
      this.initDurations.push(acquired.initDurationMs);
      if (this.initDurations.length > SAMPLE_CAP) this.initDurations.shift();
    }
    const timeoutMs = this.fn.timeoutSeconds * 1000;
    const log = (line: string): void => this.svc.log(this.fn.name, line);
    log(`START RequestId: ${requestId} Version: $LATEST`);
    this.events.emit('invokeStart', {
      fn: this.fn.name,
      requestId,
      environmentId: env.id,
      coldStart: cold,
      event,
    } satisfies InvokeStartEvent);
    const t0 = performance.now();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void env.kill();
    }, timeoutMs);
    let outcome = await env.invoke({
      type: 'invoke',
      requestId,
      event: eventJson,
      deadlineMs: Date.now() + timeoutMs,
    });
    clearTimeout(timer);
    const durationMs = performance.now() - t0;
    if (timedOut) {
      const message = `${new Date().toISOString()} ${requestId} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`;
      log(message);
      outcome = { ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: message } };
      this.timeouts += 1;
    }
    const status = timedOut ? 'timeout' : env.state === 'dead' ? 'error' : undefined;
    const initMs = acquired.initDurationMs;
    const billed = Math.ceil(durationMs + (initMs ?? 0));
    log(`END RequestId: ${requestId}`);
    log(
      `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${billed} ms\tMemory Size: ${
        this.fn.memoryMb
      } MB\tMax Memory Used: ${outcome.maxMemoryMb ?? 0} MB${initMs !== undefined ? `\tInit Duration: ${initMs.toFixed(2)} ms` : ''}${
        status ? `\tStatus: ${status}` : ''
      }${status === 'error' && !outcome.ok ? `\tError Type: ${outcome.error.errorType}` : ''}`,
    );
    this.durations.push(durationMs);
    if (this.durations.length > SAMPLE_CAP) this.durations.shift();
    if (!outcome.ok) this.errors += 1;
    this.cpuMs += outcome.cpuMs ?? 0;
    this.#release(env);
    const result: InvocationResult = outcome.ok
      ? { ok: true, result: JSON.parse(outcome.payload), requestId, durationMs, coldStart: cold }
      : { ok: false, error: outcome.error, requestId, durationMs, coldStart: cold, timedOut };
    this.events.emit('invokeEnd', {
      fn: this.fn.name,
      environmentId: env.id,
      ...result,
    } satisfies InvokeEndEvent);
    return result;
  }

  async kill(target: KillTarget): Promise<number> {
    const victims = [...this.envs].filter((e) =>
      target === 'all'
        ? true
        : target === 'busy'
          ? e.state === 'busy'
          : target === 'idle'
            ? e.state === 'idle'
            : e.id === target,
    );
    const wasBusy = new Set(victims.filter((e) => e.state === 'busy'));
    await Promise.all(victims.map((e) => e.kill()));
    for (const e of victims) {
      // A busy sandbox leaves the pool in #release, when its (now failed) invocation resolves.
      if (wasBusy.has(e)) continue;
      const i = this.idle.indexOf(e);
      if (i >= 0) this.idle.splice(i, 1);
      clearTimeout(this.idleTimers.get(e));
      this.idleTimers.delete(e);
      this.envs.delete(e);
    }
    this.#wake();
    return victims.length;
  }

  /** New code: idle sandboxes go now, busy ones after their invocation. */
  retire(): void {
    for (const e of this.envs) e.retired = true;
    const idle = this.idle.splice(0);
    for (const e of idle) {
      clearTimeout(this.idleTimers.get(e));
      this.idleTimers.delete(e);
      this.envs.delete(e);
      void e.kill();
    }
  }

  metrics(): FunctionMetrics {
    let busy = 0;
    let idle = 0;
    for (const e of this.envs) {
      if (e.state === 'busy') busy += 1;
      else if (e.state === 'idle') idle += 1;
    }
    return {
      invocations: this.invocations,
      errors: this.errors,
      timeouts: this.timeouts,
      coldStarts: this.coldStarts,
      initDurationsMs: [...this.initDurations],
      durationsMs: [...this.durations],
      init: summarize(this.initDurations),
      duration: summarize(this.durations),
      environments: { total: this.envs.size, busy, idle },
      cpuMs: this.cpuMs,
    };
  }

  resetMetrics(): void {
    this.invocations = 0;
    this.errors = 0;
    this.timeouts = 0;
    this.coldStarts = 0;
    this.initDurations = [];
    this.durations = [];
    this.cpuMs = 0;
  }

  environments(): EnvironmentInfo[] {
    return [...this.envs].map((e) => ({
      id: e.id,
      state: e.state,
      invocations: e.invocations,
      createdAt: e.createdAt,
    }));
  }

  async stop(): Promise<void> {
    for (const t of this.idleTimers.values()) clearTimeout(t);
    this.idleTimers.clear();
    await Promise.all([...this.envs].map((e) => e.kill()));
    this.envs.clear();
    this.idle.length = 0;
    for (const w of this.waiters.splice(0)) w();
  }
}

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

/** All deployed functions. */
export class LambdaService {
  readonly events = new EventEmitter();
  readonly #pools = new Map<string, FunctionPool>();
  #opts: LambdaServiceOptions;
  #stopped = false;

  constructor(opts: LambdaServiceOptions) {
    this.#opts = opts;
    this.events.setMaxListeners(0);
  }

  /** The bundled in-sandbox runtime; set before the first deploy. */
  setBootstrapPath(bootstrapPath: string): void {
    this.#opts = { ...this.#opts, bootstrapPath };
  }

  /** Deploys (or redeploys: new code ⇒ fresh sandboxes) a function. */
  deploy(fn: DeployedFunction): void {
    const existing = this.#pools.get(fn.name);
    if (existing) {
      existing.retire();
      existing.fn = fn;
      return;
    }
    this.#pools.set(fn.name, new FunctionPool(fn, this.#opts, this.events));
  }

  has(name: string): boolean {
    return this.#pools.has(name);
  }

  names(): string[] {
    return [...this.#pools.keys()];
  }

  /** Synchronous invocation (RequestResponse). Never rejects. */
  async invoke(name: string, event: unknown): Promise<InvocationResult> {
    const pool = this.#pools.get(name);
    if (!pool || this.#stopped) {
      return {
        ok: false,
        error: {
          errorType: 'ResourceNotFoundException',
          errorMessage: `Function not found: arn:aws:lambda:${this.#opts.region}:${this.#opts.accountId}:function:${name}`,
        },
        requestId: lambdaRequestId(),
        durationMs: 0,
        coldStart: false,
        timedOut: false,
      };
    }
    const eventJson = JSON.stringify(event ?? null);
    if (Buffer.byteLength(eventJson) > LAMBDA_PAYLOAD_MAX_BYTES) {
      return {
        ok: false,
        error: {
          errorType: 'RequestEntityTooLargeException',
          errorMessage: `Request must be smaller than ${LAMBDA_PAYLOAD_MAX_BYTES} bytes for the InvokeFunction operation`,
        },
        requestId: lambdaRequestId(),
        durationMs: 0,
        coldStart: false,
        timedOut: false,
      };
    }
    return pool.invoke(eventJson, event);
  }

  killEnvironment(name: string, target: KillTarget = 'busy'): Promise<number> {
    return this.#pools.get(name)?.kill(target) ?? Promise.resolve(0);
  }

  environments(name: string): EnvironmentInfo[] {
    return this.#pools.get(name)?.environments() ?? [];
  }

  metrics(): Record<string, FunctionMetrics> {
    const out: Record<string, FunctionMetrics> = {};
    for (const [name, p] of this.#pools) out[name] = p.metrics();
    return out;
  }

  resetMetrics(): void {
    for (const p of this.#pools.values()) p.resetMetrics();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#pools.values()].map((p) => p.stop()));
  }
}
