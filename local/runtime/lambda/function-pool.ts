/**
 * The execution environments of one function: reused when warm (most recently used first), scaled out up to
 * its maximum concurrency, one invocation at a time each; the function timeout kills and replaces the sandbox;
 * START/END/REPORT lines like Lambda's; the function's metrics.
 */
import type { EventEmitter } from 'node:events';
import { dirname } from 'node:path';
import { lambdaRequestId, logStreamName } from '../ids.ts';
import { type DetailLog, detailOf, isRoutineLogLine } from '../logging.ts';
import { type ExecutionEnvironment as Env, ExecutionEnvironment, type InvokeOutcome } from './environment.ts';
import type { LambdaError } from './protocol.ts';
import {
  type DeployedFunction,
  type EnvironmentInfo,
  type FunctionMetrics,
  type InvocationResult,
  type InvokeEndEvent,
  type InvokeStartEvent,
  type KillTarget,
  LAMBDA_PAYLOAD_MAX_BYTES,
  type LambdaServiceOptions,
  SAMPLE_CAP,
  summarize,
} from './types.ts';

export class FunctionPool {
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
  /** START/END/REPORT go here, and are only built when it is enabled. */
  readonly #detail: DetailLog;

  constructor(
    public fn: DeployedFunction,
    private readonly svc: LambdaServiceOptions,
    private readonly events: EventEmitter,
  ) {
    this.#detail = detailOf(svc.log);
  }

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
      onLog: (line) => (isRoutineLogLine(line) ? this.#detail : this.svc.log)(this.fn.name, line),
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

  /**
   * One invocation with the event as JSON text (what the sandbox gets); `event` makes the same event as an
   * object, for `invokeStart` listeners only.
   */
  async invoke(eventJson: string, event: () => unknown): Promise<InvocationResult> {
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
    const detail = this.#detail.enabled ? this.#detail : undefined;
    detail?.(this.fn.name, `START RequestId: ${requestId} Version: $LATEST`);
    if (this.events.listenerCount('invokeStart') > 0) {
      this.events.emit('invokeStart', {
        fn: this.fn.name,
        requestId,
        environmentId: env.id,
        coldStart: cold,
        event: event(),
      } satisfies InvokeStartEvent);
    }
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
    if (detail) this.#report(detail, requestId, durationMs, acquired.initDurationMs, outcome, timedOut, env);
    this.durations.push(durationMs);
    if (this.durations.length > SAMPLE_CAP) this.durations.shift();
    if (!outcome.ok) this.errors += 1;
    this.cpuMs += outcome.cpuMs ?? 0;
    this.#release(env);
    const result: InvocationResult = outcome.ok
      ? { ok: true, result: JSON.parse(outcome.payload), requestId, durationMs, coldStart: cold }
      : { ok: false, error: outcome.error, requestId, durationMs, coldStart: cold, timedOut };
    if (this.events.listenerCount('invokeEnd') > 0) {
      this.events.emit('invokeEnd', {
        fn: this.fn.name,
        environmentId: env.id,
        ...result,
      } satisfies InvokeEndEvent);
    }
    return result;
  }

  #report(
    detail: DetailLog,
    requestId: string,
    durationMs: number,
    initMs: number | undefined,
    outcome: InvokeOutcome,
    timedOut: boolean,
    env: Env,
  ): void {
    const status = timedOut ? 'timeout' : env.state === 'dead' ? 'error' : undefined;
    const billed = Math.ceil(durationMs + (initMs ?? 0));
    const log = (line: string): void => detail(this.fn.name, line);
    log(`END RequestId: ${requestId}`);
    log(
      `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${billed} ms\tMemory Size: ${
        this.fn.memoryMb
      } MB\tMax Memory Used: ${outcome.maxMemoryMb ?? 0} MB${initMs !== undefined ? `\tInit Duration: ${initMs.toFixed(2)} ms` : ''}${
        status ? `\tStatus: ${status}` : ''
      }${status === 'error' && !outcome.ok ? `\tError Type: ${outcome.error.errorType}` : ''}`,
    );
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
