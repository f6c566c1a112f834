/**
 * The Lambda runtime inside one local execution environment (a worker thread or a child process). It is
 * bundled to plain JS by the local runtime before use. It mirrors the Node.js managed runtime: load the handler
 * module once (the init phase), then run one invocation at a time with an event parsed from JSON and a
 * `context` object, console output prefixed with timestamp, request id and level, errors serialized as
 * `{ errorType, errorMessage, trace }`.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import type { EnvInit, FromEnvironment, InvokeMessage, LambdaError } from './protocol.ts';
import { INIT_ENV_VAR } from './protocol.ts';

const send = (m: FromEnvironment): void => {
  if (isMainThread) process.send?.(m);
  else parentPort?.postMessage(m);
};

const init: EnvInit = isMainThread ? JSON.parse(process.env[INIT_ENV_VAR] ?? '{}') : (workerData as EnvInit);
delete process.env[INIT_ENV_VAR];

if (init.sourceMaps) process.setSourceMapsEnabled(true);

// --- console, as the Lambda Node.js runtime patches it (text log format) ---
let currentRequestId: string | undefined;
const patch =
  (level: string) =>
  (...args: unknown[]) => {
    process.stdout.write(
      `${new Date().toISOString()}\t${currentRequestId ?? 'undefined'}\t${level}\t${format(...args)}\n`,
    );
  };
console.log = patch('INFO');
console.info = patch('INFO');
console.warn = patch('WARN');
console.error = patch('ERROR');
console.debug = patch('DEBUG');
console.trace = patch('TRACE');

const toLambdaError = (e: unknown): LambdaError => {
  if (e instanceof Error) {
    return {
      errorType: e.name || e.constructor?.name || 'Error',
      errorMessage: e.message,
      trace: (e.stack ?? '').split('\n'),
    };
  }
  return { errorType: typeof e, errorMessage: typeof e === 'string' ? e : format(e), trace: [] };
};

const maxMemoryMb = (): number => {
  let bytes: number;
  if (isMainThread) bytes = process.memoryUsage().rss;
  else {
    const h = getHeapStatistics();
    bytes = h.total_heap_size + h.external_memory;
  }
  return Math.ceil(bytes / (1024 * 1024));
};

// --- LOCAL_LAMBDA_CPU_PROF=<dir>: V8 CPU profile of this environment, written in 10 s chunks (a worker thread
// is terminated without a chance to flush, and `--cpu-prof` does not reach worker threads). Diagnostics only.
const profileDir = process.env.LOCAL_LAMBDA_CPU_PROF;
if (profileDir) {
  mkdirSync(profileDir, { recursive: true });
  const session = new Session();
  session.connect();
  const tag = `${init.functionName}-${process.pid}-${threadId}`;
  let chunk = 0;
  const start = (): void => session.post('Profiler.enable', () => session.post('Profiler.start'));
  const flush = (): void =>
    session.post('Profiler.stop', (err, res) => {
      if (!err && res?.profile) {
        chunk += 1;
        writeFileSync(join(profileDir, `${tag}-${chunk}.cpuprofile`), JSON.stringify(res.profile));
      }
      start();
    });
  start();
  setInterval(flush, 10_000).unref();
}

/**
 * CPU time used so far by this sandbox: its thread's (a worker shares the process, so process.cpuUsage would
 * count every environment), or its process's. Linux only (/proc); undefined elsewhere.
 */
const cpuNowMs = (): number | undefined => {
  if (isMainThread) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return undefined;
  }
};

// --- fatal errors end the environment, as on Lambda (the invocation fails, the sandbox is reset) ---
process.on('uncaughtException', (e) => {
  const error = toLambdaError(e);
  process.stdout.write(
    `${new Date().toISOString()}\t${currentRequestId ?? 'undefined'}\tERROR\tUncaught Exception \t${JSON.stringify(error)}\n`,
  );
  send({ type: 'fatal', error });
  process.exit(129);
});
process.on('unhandledRejection', (reason) => {
  const inner = toLambdaError(reason);
  const error: LambdaError = {
    errorType: 'Runtime.UnhandledPromiseRejection',
    errorMessage: `${inner.errorType}: ${inner.errorMessage}`,
    trace: inner.trace,
  };
  process.stdout.write(
    `${new Date().toISOString()}\t${currentRequestId ?? 'undefined'}\tERROR\tUnhandled Promise Rejection \t${JSON.stringify(error)}\n`,
  );
  send({ type: 'fatal', error });
  process.exit(128);
});

type Handler = (
  event: unknown,
  context: unknown,
  callback: (err?: unknown, value?: unknown) => void,
) => unknown;

const loadHandler = async (): Promise<Handler> => {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(init.bundlePath).href)) as Record<string, unknown>;
  } catch (e) {
    const err = toLambdaError(e);
    const isResolve = e instanceof Error && 'code' in e && String(e.code).startsWith('ERR_MODULE_NOT_FOUND');
    throw isResolve ? { ...err, errorType: 'Runtime.ImportModuleError' } : err;
  }
  const fromDefault = (mod.default as Record<string, unknown> | undefined)?.[init.handlerExport];
  const h = mod[init.handlerExport] ?? fromDefault;
  if (typeof h !== 'function') {
    throw {
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: `index.${init.handlerExport} is undefined or not exported`,
      trace: [],
    } satisfies LambdaError;
  }
  const major = Number(/^nodejs(\d+)/.exec(init.runtime)?.[1] ?? '0');
  if (major >= 24 && (h as Handler).length >= 3) {
    throw {
      errorType: 'Runtime.CallbackHandlerDeprecated',
      errorMessage:
        'ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 or later. For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.',
      trace: [],
    } satisfies LambdaError;
  }
  return h as Handler;
};

const callbackRuntime = Number(/^nodejs(\d+)/.exec(init.runtime)?.[1] ?? '0') < 24;

const run = async (handler: Handler, msg: InvokeMessage): Promise<unknown> => {
  const event: unknown = JSON.parse(msg.event);
  return new Promise((resolve, reject) => {
    const callback = (err?: unknown, value?: unknown): void => {
      if (err !== undefined && err !== null) reject(err);
      else resolve(value);
    };
    const context: Record<string, unknown> = {
      functionName: init.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${init.region}:${init.accountId}:function:${init.functionName}`,
      memoryLimitInMB: String(init.memoryMb),
      awsRequestId: msg.requestId,
      logGroupName: init.logGroupName,
      logStreamName: init.logStreamName,
      getRemainingTimeInMillis: (): number => Math.max(0, msg.deadlineMs - Date.now()),
    };
    if (callbackRuntime) {
      // Node.js ≤ 22 runtimes only: Node.js 24 removed these along with callback handlers.
      Object.assign(context, {
        callbackWaitsForEmptyEventLoop: true,
        done: callback,
        fail: (err: unknown) => callback(err ?? 'handled'),
        succeed: (value: unknown) => callback(null, value),
      });
    }
    let ret: unknown;
    try {
      ret = callbackRuntime ? handler(event, context, callback) : handler(event, context, undefined as never);
    } catch (e) {
      reject(e);
      return;
    }
    if (ret !== null && typeof ret === 'object' && typeof (ret as { then?: unknown }).then === 'function') {
      (ret as Promise<unknown>).then(resolve, reject);
    } else if (!callbackRuntime || handler.length < 3) {
      resolve(ret);
    }
  });
};

const main = async (): Promise<void> => {
  const t0 = performance.now();
  let handler: Handler;
  try {
    handler = await loadHandler();
  } catch (e) {
    const error: LambdaError =
      e !== null && typeof e === 'object' && 'errorType' in e ? (e as LambdaError) : toLambdaError(e);
    process.stdout.write(
      `${new Date().toISOString()}\tundefined\tERROR\tInit Error \t${JSON.stringify(error)}\n`,
    );
    send({ type: 'initError', error });
    return;
  }
  send({ type: 'ready', moduleInitMs: performance.now() - t0 });

  const onMessage = async (msg: InvokeMessage): Promise<void> => {
    if (msg.type !== 'invoke') return;
    currentRequestId = msg.requestId;
    const cpu0 = cpuNowMs();
    const cpuMs = (): { cpuMs?: number } => {
      const now = cpuNowMs();
      return cpu0 === undefined || now === undefined ? {} : { cpuMs: now - cpu0 };
    };
    try {
      const value = await run(handler, msg);
      let payload: string;
      try {
        payload = JSON.stringify(value === undefined ? null : value) ?? 'null';
      } catch (e) {
        throw {
          errorType: 'Runtime.SerializationError',
          errorMessage: toLambdaError(e).errorMessage,
          trace: [],
        };
      }
      // UTF-8 takes at most 3 bytes per UTF-16 unit: only a long text needs counting.
      if (payload.length * 3 > init.maxResponseBytes && Buffer.byteLength(payload) > init.maxResponseBytes) {
        throw {
          errorType: 'Function.ResponseSizeTooLarge',
          errorMessage: `Response payload size exceeded maximum allowed payload size (${init.maxResponseBytes} bytes).`,
          trace: [],
        } satisfies LambdaError;
      }
      send({
        type: 'result',
        requestId: msg.requestId,
        ok: true,
        payload,
        maxMemoryMb: maxMemoryMb(),
        ...cpuMs(),
      });
    } catch (e) {
      const error: LambdaError =
        e !== null &&
        typeof e === 'object' &&
        'errorType' in e &&
        'errorMessage' in e &&
        !(e instanceof Error)
          ? (e as LambdaError)
          : toLambdaError(e);
      process.stdout.write(
        `${new Date().toISOString()}\t${msg.requestId}\tERROR\tInvoke Error \t${JSON.stringify(error)}\n`,
      );
      send({
        type: 'result',
        requestId: msg.requestId,
        ok: false,
        error,
        maxMemoryMb: maxMemoryMb(),
        ...cpuMs(),
      });
    }
  };
  if (isMainThread) process.on('message', (m: InvokeMessage) => void onMessage(m));
  else parentPort?.on('message', (m: InvokeMessage) => void onMessage(m));
};

void main();
