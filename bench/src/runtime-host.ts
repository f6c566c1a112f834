/**
 * Child process that hosts the local runtime for the bench (started by runtime.ts with the tsx loader).
 * Talks over IPC: `ready` once listening, then answers `metrics`, `resetMetrics`, `threads`, `kill` and `stop`.
 */
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { FunctionMetrics } from '@chat/local/runtime';
import { benchRuntimeEnv } from './host-env.ts';
import type { FunctionStats } from './runtime.ts';

export interface HostStart {
  handlerOverrides: Record<string, string>;
  logFile?: string;
  maxConcurrency?: number | Record<string, number>;
  /** Reclaim execution environments idle this long (the runtime's default is 10 minutes). */
  idleEnvironmentTtlMs?: number;
  /** Deploy only these functions (default: all), without Kafka mappings and schedules when given. */
  only?: string[];
}

export type HostRequest =
  | { id: number; type: 'metrics' }
  | { id: number; type: 'resetMetrics' }
  | { id: number; type: 'kill'; fn: string; target: 'busy' | 'idle' | 'all' }
  | { id: number; type: 'threads' }
  | { id: number; type: 'stop' };

export type HostReply =
  | { type: 'ready'; wsUrl: string; httpUrl: string; id?: undefined }
  | { type: 'metrics'; id: number; metrics: Record<string, FunctionStats> }
  | { type: 'killed'; id: number; count: number }
  | { type: 'threads'; id: number; cpu: ThreadCpu | null }
  | { type: 'ok'; id: number }
  | { type: 'error'; id?: number; message: string };

const reply = (m: HostReply) => process.send?.(m);

/**
 * CPU used so far (ms) by the runtime process's main thread (the API Gateway emulator, the event source poller)
 * and by the other threads that existed when the runtime became ready: V8's platform threads (the optimizing
 * JIT compiler, concurrent GC), libuv's and the inspector's. Every thread started later is an execution
 * environment (environments start on demand, never before the runtime is ready). Linux only (/proc).
 */
export interface ThreadCpu {
  mainMs: number;
  startupThreadsMs: number;
}

const threadCpuMs = (tid: string): number => {
  try {
    const s = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0; // the thread has ended
  }
};
let startupTids: string[] = [];
const threadCpu = (): ThreadCpu | null => {
  if (startupTids.length === 0) return null;
  const main = String(process.pid);
  let startupThreadsMs = 0;
  for (const tid of startupTids) if (tid !== main) startupThreadsMs += threadCpuMs(tid);
  return { mainMs: threadCpuMs(main), startupThreadsMs };
};

/** Drop the raw duration arrays (up to 10,000 numbers per function) before sending over IPC. */
function compactMetrics(m: Record<string, FunctionMetrics>): Record<string, FunctionStats> {
  const out: Record<string, FunctionStats> = {};
  for (const [name, f] of Object.entries(m)) {
    out[name] = {
      invocations: f.invocations,
      errors: f.errors,
      timeouts: f.timeouts,
      coldStarts: f.coldStarts,
      init: { ...f.init },
      duration: { ...f.duration },
      environments: { ...f.environments },
      cpuMs: f.cpuMs,
    };
  }
  return out;
}

async function main(): Promise<void> {
  const { positionals } = parseArgs({ args: process.argv.slice(2), allowPositionals: true, options: {} });
  const start = JSON.parse(positionals[0] ?? '{}') as HostStart;
  const { startLocalRuntime } = await import('@chat/local/runtime');
  // Function and platform logs go to a file (the bench's terminal shows progress only).
  const logFile = start.logFile ? createWriteStream(start.logFile, { flags: 'a' }) : null;
  const rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    host: '127.0.0.1',
    functionOverrides: start.handlerOverrides,
    ...(start.maxConcurrency !== undefined ? { maxConcurrency: start.maxConcurrency } : {}),
    ...(start.idleEnvironmentTtlMs !== undefined ? { idleEnvironmentTtlMs: start.idleEnvironmentTtlMs } : {}),
    ...(start.only ? { functions: start.only, kafka: false, schedules: false } : {}),
    // Profiling (BENCH_CPU_PROF): readable function names in the environments' profiles.
    ...(process.env.LOCAL_LAMBDA_CPU_PROF ? { minify: false } : {}),
    log: logFile ? (source, line) => logFile.write(`${source}\t${line}\n`) : 'silent',
    // The services' credentials and the run's own topics (the chaos run produces and reads on them directly).
    env: benchRuntimeEnv(),
  });
  try {
    startupTids = readdirSync('/proc/self/task');
  } catch {
    startupTids = []; // not Linux: no split of the runtime's CPU by thread
  }
  reply({ type: 'ready', wsUrl: rt.wsUrl, httpUrl: rt.httpUrl });
  process.on('message', async (req: HostRequest) => {
    try {
      switch (req.type) {
        case 'metrics':
          reply({ type: 'metrics', id: req.id, metrics: compactMetrics(rt.metrics()) });
          break;
        case 'resetMetrics':
          rt.resetMetrics();
          reply({ type: 'ok', id: req.id });
          break;
        case 'threads':
          reply({ type: 'threads', id: req.id, cpu: threadCpu() });
          break;
        case 'kill':
          reply({ type: 'killed', id: req.id, count: await rt.killEnvironment(req.fn, req.target) });
          break;
        case 'stop':
          await rt.stop();
          reply({ type: 'ok', id: req.id });
          process.exit(0);
      }
    } catch (err) {
      reply({ type: 'error', id: req.id, message: err instanceof Error ? err.message : String(err) });
    }
  });
  process.on('disconnect', () => {
    void rt.stop().finally(() => process.exit(0));
  });
}

main().catch((err) => {
  reply({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
