/**
 * The local Lambda service: every deployed function with its pool of execution environments
 * (`./function-pool.ts`), synchronous invocation with Lambda's payload limits, and the `invokeStart` /
 * `invokeEnd` events.
 */
import { EventEmitter } from 'node:events';
import { lambdaRequestId } from '../ids.ts';
import { FunctionPool } from './function-pool.ts';
import {
  type DeployedFunction,
  type EnvironmentInfo,
  type FunctionMetrics,
  type InvocationResult,
  type KillTarget,
  LAMBDA_PAYLOAD_MAX_BYTES,
  type LambdaServiceOptions,
} from './types.ts';

export type {
  DeployedFunction,
  DurationSummary,
  EnvironmentInfo,
  FunctionMetrics,
  InvocationResult,
  InvokeEndEvent,
  InvokeStartEvent,
  KillTarget,
  LambdaServiceOptions,
} from './types.ts';
export { LAMBDA_PAYLOAD_MAX_BYTES, summarize } from './types.ts';

/** All deployed functions. */
export class LambdaService {
  /** `invokeStart` / `invokeEnd`: the `events` option (the runtime's own emitter), or an emitter of its own. */
  readonly events: EventEmitter;
  readonly #pools = new Map<string, FunctionPool>();
  #opts: LambdaServiceOptions;
  #stopped = false;

  constructor(opts: LambdaServiceOptions) {
    this.#opts = opts;
    this.events = opts.events ?? new EventEmitter().setMaxListeners(0);
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
  invoke(name: string, event: unknown): Promise<InvocationResult> {
    return this.invokeJson(name, JSON.stringify(event ?? null), () => event);
  }

  /**
   * Synchronous invocation with the event already serialized (the API Gateway emulators build their events as
   * JSON text once); `event` makes the same event as an object, for `invokeStart` listeners only (default:
   * parsed from the text). Never rejects.
   */
  async invokeJson(
    name: string,
    eventJson: string,
    event: () => unknown = () => JSON.parse(eventJson),
  ): Promise<InvocationResult> {
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
    // UTF-8 takes at most 3 bytes per UTF-16 unit: only a long text needs counting.
    if (
      eventJson.length * 3 > LAMBDA_PAYLOAD_MAX_BYTES &&
      Buffer.byteLength(eventJson) > LAMBDA_PAYLOAD_MAX_BYTES
    ) {
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
