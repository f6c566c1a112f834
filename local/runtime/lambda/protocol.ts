/** Messages between the local Lambda service (parent) and one execution environment (worker or process). */

/** A Lambda function error as the Node.js runtime serializes it. */
export interface LambdaError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: readonly string[];
}

/** Static facts of one execution environment, given at spawn time (workerData or an env var). */
export interface EnvInit {
  readonly functionName: string;
  /** Absolute path of the bundled handler file. */
  readonly bundlePath: string;
  /** Exported name of the handler (`index.handler` ⇒ `handler`). */
  readonly handlerExport: string;
  readonly memoryMb: number;
  readonly region: string;
  readonly accountId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly sourceMaps: boolean;
  /** Lambda runtime identifier, e.g. `nodejs24.x` (24+ refuses callback-style handlers, as AWS does). */
  readonly runtime: string;
  /** Bytes; a larger serialized result fails with Function.ResponseSizeTooLarge. */
  readonly maxResponseBytes: number;
}

export interface InvokeMessage {
  readonly type: 'invoke';
  readonly requestId: string;
  /** The event as JSON text: Lambda hands functions a JSON document, never live objects. */
  readonly event: string;
  /** Wall-clock epoch ms at which the function times out (for getRemainingTimeInMillis). */
  readonly deadlineMs: number;
}

export type FromEnvironment =
  | { readonly type: 'ready'; readonly moduleInitMs: number }
  | { readonly type: 'initError'; readonly error: LambdaError }
  | {
      readonly type: 'result';
      readonly requestId: string;
      readonly ok: true;
      /** The result as JSON text (`null` for undefined). */
      readonly payload: string;
      readonly maxMemoryMb: number;
      /** CPU time the sandbox's thread (or process) used during the invocation, ms (Linux; 10 ms ticks). */
      readonly cpuMs?: number;
    }
  | {
      readonly type: 'result';
      readonly requestId: string;
      readonly ok: false;
      readonly error: LambdaError;
      readonly maxMemoryMb: number;
      readonly cpuMs?: number;
    }
  | { readonly type: 'fatal'; readonly error: LambdaError };

/** Name of the env var that carries EnvInit into a child-process environment (removed before user code runs). */
export const INIT_ENV_VAR = '__LOCAL_LAMBDA_INIT';
