/**
 * One Lambda execution environment: an isolated worker thread (default) or child process that loads the
 * function bundle once and then runs one invocation at a time. Killing it mid-invocation fails that
 * invocation with `Runtime.ExitError`, as a crashed sandbox does on AWS.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import {
  type EnvInit,
  type FromEnvironment,
  INIT_ENV_VAR,
  type InvokeMessage,
  type LambdaError,
} from './protocol.ts';

export type Isolation = 'worker' | 'process';

export type InvokeOutcome =
  | { readonly ok: true; readonly payload: string; readonly maxMemoryMb: number; readonly cpuMs?: number }
  | {
      readonly ok: false;
      readonly error: LambdaError;
      readonly maxMemoryMb?: number;
      readonly cpuMs?: number;
    };

export interface EnvironmentOptions {
  readonly init: EnvInit;
  readonly bootstrapPath: string;
  readonly isolation: Isolation;
  /** The complete process.env of the sandbox. */
  readonly env: Record<string, string>;
  /** One line of the sandbox's stdout/stderr. */
  readonly onLog: (line: string) => void;
}

export type EnvironmentState = 'initializing' | 'idle' | 'busy' | 'dead';

let seq = 0;

export class ExecutionEnvironment {
  readonly id: string;
  readonly createdAt = Date.now();
  lastUsedAt = Date.now();
  invocations = 0;
  state: EnvironmentState = 'initializing';
  /** Set when the sandbox is replaced (new code) while busy: it is killed when the invocation ends. */
  retired = false;

  readonly #opts: EnvironmentOptions;
  #worker: Worker | undefined;
  #child: ChildProcess | undefined;
  #pending: { requestId: string; resolve: (o: InvokeOutcome) => void } | undefined;
  #ready: { resolve: (v: { moduleInitMs: number }) => void; reject: (e: LambdaError) => void } | undefined;
  #fatal: LambdaError | undefined;
  #killedBySignal = false;
  #exited: Promise<void>;
  #markExited: () => void = () => {};

  constructor(opts: EnvironmentOptions) {
    this.#opts = opts;
    seq += 1;
    this.id = `${opts.init.functionName}#${seq}`;
    this.#exited = new Promise((r) => {
      this.#markExited = r;
    });
  }

  get threadOrPid(): number | undefined {
    return this.#worker?.threadId ?? this.#child?.pid;
  }

  /** Spawns the sandbox and runs the init phase (module load). Rejects with the init error. */
  start(): Promise<{ moduleInitMs: number }> {
    const { init, bootstrapPath, isolation, env } = this.#opts;
    const p = new Promise<{ moduleInitMs: number }>((resolve, reject) => {
      this.#ready = { resolve, reject };
    });
    if (isolation === 'worker') {
      const w = new Worker(bootstrapPath, {
        workerData: init,
        env,
        stdout: true,
        stderr: true,
        // Lambda's memory setting caps the whole sandbox; the V8 old generation is the closest knob here. The
        // young generation is capped at 8 MB (V8's default grows to 48 MB under a burst and is kept): a dozen
        // environments share one process here, and a burst left each of them tens of MB larger. 8 rather than
        // 16: 17 MB less for 10,000 idle connections, no more CPU per message (docs/benchmarks.md, sixth pass).
        resourceLimits: { maxOldGenerationSizeMb: Math.max(64, init.memoryMb), maxYoungGenerationSizeMb: 8 },
        execArgv: [],
      });
      this.#worker = w;
      this.#pipe(w.stdout);
      this.#pipe(w.stderr);
      w.on('message', (m: FromEnvironment) => this.#onMessage(m));
      w.on('error', (e: Error & { code?: string }) => {
        this.#fatal ??=
          e.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? { errorType: 'Runtime.OutOfMemory', errorMessage: 'Runtime exited with error: signal: killed' }
            : { errorType: e.name || 'Error', errorMessage: e.message, trace: (e.stack ?? '').split('\n') };
      });
      w.on('exit', (code) => this.#onExit(this.#killedBySignal ? 'signal: killed' : `exit status ${code}`));
    } else {
      const c = fork(bootstrapPath, [], {
        env: { ...env, [INIT_ENV_VAR]: JSON.stringify(init) },
        execArgv: [`--max-old-space-size=${Math.max(64, init.memoryMb)}`],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'json',
      });
      this.#child = c;
      if (c.stdout) this.#pipe(c.stdout);
      if (c.stderr) this.#pipe(c.stderr);
      c.on('message', (m: FromEnvironment) => this.#onMessage(m));
      c.on('error', () => {});
      c.on('exit', (code, signal) =>
        this.#onExit(
          signal
            ? `signal: ${signal === 'SIGKILL' ? 'killed' : signal.toLowerCase()}`
            : `exit status ${code}`,
        ),
      );
    }
    return p;
  }

  /** Runs one invocation. Never rejects: a crash or kill resolves with a Runtime.ExitError outcome. */
  invoke(msg: InvokeMessage): Promise<InvokeOutcome> {
    if (this.state !== 'idle') throw new Error(`environment ${this.id} is ${this.state}, not idle`);
    this.state = 'busy';
    this.invocations += 1;
    this.lastUsedAt = Date.now();
    return new Promise<InvokeOutcome>((resolve) => {
      this.#pending = { requestId: msg.requestId, resolve };
      if (this.#worker) this.#worker.postMessage(msg);
      else this.#child?.send(msg);
    });
  }

  /** Kills the sandbox (like Lambda resetting it). Resolves once it is gone. */
  async kill(): Promise<void> {
    if (this.state === 'dead') return;
    this.#killedBySignal = true;
    if (this.#worker) void this.#worker.terminate();
    else this.#child?.kill('SIGKILL');
    await this.#exited;
  }

  #pipe(stream: Readable): void {
    const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    rl.on('line', (line) => this.#opts.onLog(line));
  }

  #onMessage(m: FromEnvironment): void {
    switch (m.type) {
      case 'ready':
        this.state = 'idle';
        this.#ready?.resolve({ moduleInitMs: m.moduleInitMs });
        this.#ready = undefined;
        break;
      case 'initError':
        this.#ready?.reject(m.error);
        this.#ready = undefined;
        void this.kill();
        break;
      case 'result': {
        const p = this.#pending;
        if (!p || p.requestId !== m.requestId) return;
        this.#pending = undefined;
        if (this.state === 'busy') this.state = 'idle';
        this.lastUsedAt = Date.now();
        p.resolve(
          m.ok
            ? { ok: true, payload: m.payload, maxMemoryMb: m.maxMemoryMb, cpuMs: m.cpuMs ?? 0 }
            : { ok: false, error: m.error, maxMemoryMb: m.maxMemoryMb, cpuMs: m.cpuMs ?? 0 },
        );
        break;
      }
      case 'fatal':
        this.#fatal = m.error;
        break;
    }
  }

  #onExit(how: string): void {
    this.state = 'dead';
    const p = this.#pending;
    this.#pending = undefined;
    if (p) {
      p.resolve({
        ok: false,
        error: this.#fatal ?? {
          errorType: 'Runtime.ExitError',
          errorMessage: `RequestId: ${p.requestId} Error: Runtime exited with error: ${how}`,
        },
      });
    }
    if (this.#ready) {
      this.#ready.reject(
        this.#fatal ?? {
          errorType: 'Runtime.ExitError',
          errorMessage: `Error: Runtime exited with error: ${how}`,
        },
      );
      this.#ready = undefined;
    }
    this.#markExited();
  }
}
