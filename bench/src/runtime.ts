/**
 * The system under test, seen from the bench: the local runtime (API Gateway + Lambda + Kafka ESM emulator)
 * in a child process of its own, so that its CPU and memory are measured apart from the load generator's,
 * and the backing services through the services manager.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME_MALLOC_ENV } from '@chat/local/runtime';
import type { Endpoints } from './client.ts';
import { pidListeningOn } from './procs.ts';
import type { HostReply, HostRequest, HostStart, ThreadCpu } from './runtime-host.ts';

export type { ThreadCpu };

export interface DurationStats {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface FunctionStats {
  invocations: number;
  errors: number;
  timeouts: number;
  coldStarts: number;
  init: DurationStats;
  duration: DurationStats;
  environments?: { total: number; busy: number; idle: number };
  /** CPU time used inside invocations, ms (the environments' threads, from /proc). */
  cpuMs?: number;
}

export interface RuntimeHandle {
  endpoints: Endpoints;
  /**
   * Root pid of the runtime (sampled with its descendants); for an external runtime, the process listening on
   * its WebSocket port when it is on this host (e.g. npm start's), else null.
   */
  pid: number | null;
  metrics(): Promise<Record<string, FunctionStats> | null>;
  resetMetrics(): Promise<void>;
  /** CPU so far of the runtime's main thread and start-up threads (null: an external runtime, or not Linux). */
  threadCpu(): Promise<ThreadCpu | null>;
  /** Kill execution environments of a function (SIGKILL); returns how many died. */
  killEnvironment(fn: string, target?: 'busy' | 'idle' | 'all'): Promise<number>;
  /** Whether the runtime process is still alive (for the fuzzer's "never crashes"). */
  alive(): boolean;
  /** The last lines the runtime process wrote to stderr (a crash's stack trace). */
  stderrTail(): string;
  stop(): Promise<void>;
}

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * A runtime that someone else started (e.g. `npm start`): endpoints, and its pid when it listens on this host
 * (CPU and RSS are sampled like the bench's own runtime's); no function metrics, no kill switch.
 */
export function externalRuntime(endpoints: Endpoints): RuntimeHandle {
  const url = new URL(endpoints.wsUrl);
  const local = ['localhost', '127.0.0.1', '[::1]', '::1'].includes(url.hostname);
  const port = Number(url.port || (url.protocol === 'wss:' ? 443 : 80));
  return {
    endpoints,
    pid: local ? pidListeningOn(port) : null,
    metrics: async () => null,
    resetMetrics: async () => {},
    threadCpu: async () => null,
    killEnvironment: async () => {
      throw new Error('cannot kill environments of a runtime the bench did not start');
    },
    alive: () => true,
    stderrTail: () => '',
    stop: async () => {},
  };
}

/**
 * Start the runtime in a child process (tsx loader) on free ports. `handlerOverrides` maps function names to
 * handler files (absolute paths), e.g. a no-op handler for the raw WebSocket echo baseline.
 */
export async function spawnRuntime(
  opts: {
    handlerOverrides?: Record<string, string>;
    env?: Record<string, string>;
    logFile?: string;
    only?: string[];
    maxConcurrency?: number | Record<string, number>;
    idleEnvironmentTtlMs?: number;
    startTimeoutMs?: number;
  } = {},
): Promise<RuntimeHandle> {
  const start: HostStart = {
    handlerOverrides: opts.handlerOverrides ?? {},
    ...(opts.logFile ? { logFile: opts.logFile } : {}),
    ...(opts.only ? { only: opts.only } : {}),
    ...(opts.maxConcurrency !== undefined ? { maxConcurrency: opts.maxConcurrency } : {}),
    ...(opts.idleEnvironmentTtlMs !== undefined ? { idleEnvironmentTtlMs: opts.idleEnvironmentTtlMs } : {}),
  };
  const child: ChildProcess = fork(path.join(here, 'runtime-host.ts'), [JSON.stringify(start)], {
    // BENCH_CPU_PROF=<dir>: V8 CPU profiles of the runtime (main thread and every worker-thread environment).
    // BENCH_RUNTIME_NODE_ARGS: extra Node/V8 flags for the runtime process (A/B experiments, e.g. `--no-opt`; V8
    // flags are process-wide, so they reach every execution environment's isolate too).
    execArgv: [
      ...(process.env.BENCH_RUNTIME_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? []),
      '--import',
      'tsx',
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
    ],
    env: {
      // As under `npm start`: fixed trim and mmap thresholds, so freed memory goes back (local/runtime/malloc.ts;
      // with them, glibc's default number of arenas holds no more than the 2 the bench used to set).
      // BENCH_RUNTIME_MALLOC=glibc leaves glibc's dynamic ones (A/B experiments).
      ...(process.env.BENCH_RUNTIME_MALLOC === 'glibc' ? {} : RUNTIME_MALLOC_ENV),
      ...process.env,
      ...(process.env.BENCH_CPU_PROF
        ? { LOCAL_LAMBDA_CPU_PROF: path.join(process.env.BENCH_CPU_PROF, 'environments') }
        : {}),
      ...opts.env,
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderrTail = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString()).slice(-4000);
  });
  let exited = false;
  let stopping = false;
  child.once('exit', (code, signal) => {
    exited = true;
    if (!stopping) {
      process.stderr.write(
        `\nruntime process ${child.pid} exited unexpectedly (code ${code}, signal ${signal})\n--- its stderr ---\n${stderrTail}\n---\n`,
      );
    }
  });
  let nextId = 1;
  const pending = new Map<number, (r: HostReply) => void>();
  child.on('message', (m: HostReply) => {
    if ('id' in m && m.id !== undefined) {
      pending.get(m.id)?.(m);
      pending.delete(m.id);
    }
  });
  const request = (req: WithoutId<HostRequest>, timeoutMs = 30_000): Promise<HostReply> => {
    if (exited) return Promise.reject(new Error('runtime process has exited'));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`runtime host did not answer ${req.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, (r) => {
        clearTimeout(t);
        if (r.type === 'error') reject(new Error(r.message));
        else resolve(r);
      });
      child.send({ ...req, id } as HostRequest);
    });
  };

  const ready = await new Promise<Extract<HostReply, { type: 'ready' }>>((resolve, reject) => {
    const t = setTimeout(
      () =>
        reject(new Error(`runtime did not start within ${opts.startTimeoutMs ?? 120_000} ms\n${stderrTail}`)),
      opts.startTimeoutMs ?? 120_000,
    );
    child.on('message', (m: HostReply) => {
      if (m.type === 'ready') {
        clearTimeout(t);
        resolve(m);
      } else if (m.type === 'error' && m.id === undefined) {
        clearTimeout(t);
        reject(new Error(`runtime failed to start: ${m.message}\n${stderrTail}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`runtime exited with ${code} while starting\n${stderrTail}`));
    });
  });

  return {
    endpoints: { wsUrl: ready.wsUrl, httpUrl: ready.httpUrl },
    pid: child.pid ?? null,
    async metrics() {
      const r = await request({ type: 'metrics' });
      return r.type === 'metrics' ? r.metrics : null;
    },
    async resetMetrics() {
      await request({ type: 'resetMetrics' });
    },
    async threadCpu() {
      const r = await request({ type: 'threads' });
      return r.type === 'threads' ? r.cpu : null;
    },
    async killEnvironment(fn, target = 'busy') {
      const r = await request({ type: 'kill', fn, target });
      return r.type === 'killed' ? r.count : 0;
    },
    alive: () => !exited,
    stderrTail: () => stderrTail,
    async stop() {
      stopping = true;
      if (exited) return;
      await request({ type: 'stop' }, 30_000).catch(() => {});
      await new Promise<void>((resolve) => {
        if (exited) return resolve();
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}
