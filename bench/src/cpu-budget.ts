/**
 * CPU per message, all in: the CPU seconds the system under test used during a load phase's measured window and
 * drain (the runtime's whole process tree, Redis, Kafka, Cassandra; never the load generator), divided by the
 * messages acked in that window. Split by process, and the runtime by function (exact per-invocation CPU sums
 * from its metrics) and what it spends outside invocations (its total minus the functions). When the runtime's
 * threads were read (the bench's own runtime, on Linux), that part is split again: the main thread (the API
 * Gateway emulator, the event source poller), V8's and libuv's threads (the optimizing JIT compiler of every
 * environment's isolate, concurrent GC) and the environments' threads outside invocations (the rest: their
 * garbage collection, timers, clients' background work, the worker message passing). Issue 13's target: ≤ 3 ms
 * per message; the largest parts say what limits next.
 */
import type { ResourceReport } from './procs.ts';
import type { FunctionStats, ThreadCpu } from './runtime.ts';

/** The processes that make up the system under test (the names sampleTargets gives them). */
export const SYSTEM_PROCESSES = ['runtime', 'redis', 'kafka', 'cassandra'] as const;

export interface CpuPerMessage {
  messages: number;
  /** ms of CPU per message over every system process, or null when a process was not sampled. */
  allInMs: number | null;
  /** ms per message by process (null: not sampled, e.g. an external runtime not found by its port). */
  processesMs: Record<string, number | null>;
  /** ms per message by function (inside invocations). */
  functionsMs: Record<string, number>;
  /** The runtime's CPU outside invocations (its total minus the functions), ms per message. */
  runtimeOutsideInvocationsMs: number | null;
  /**
   * The runtime's main thread alone (emulator, event source poller), ms per message, when its threads were
   * read; otherwise (results before 30 Nov, an external runtime) the same as `runtimeOutsideInvocationsMs`.
   */
  runtimeMainThreadMs: number | null;
  /** V8's and libuv's threads (JIT compiler, concurrent GC), ms per message; null when threads were not read. */
  runtimeHelperThreadsMs: number | null;
  /** The environments' threads outside invocations, ms per message; null when threads were not read. */
  environmentsOutsideInvocationsMs: number | null;
  /** The parts, largest first (functions and main thread instead of the runtime as a whole). */
  ranking: { part: string; ms: number }[];
}

const r2 = (v: number) => Math.round(v * 100) / 100;

export function cpuPerMessage(
  resources: ResourceReport[],
  functions: Record<string, FunctionStats> | null,
  messages: number,
  /** CPU (ms) of the runtime's main thread and start-up threads over the same window (runtime.threadCpu). */
  threads: ThreadCpu | null = null,
): CpuPerMessage | null {
  if (messages <= 0) return null;
  const processesMs: Record<string, number | null> = {};
  let total = 0;
  let complete = true;
  for (const name of SYSTEM_PROCESSES) {
    const sec = resources.find((r) => r.name === name)?.cpuSeconds ?? null;
    processesMs[name] = sec === null ? null : r2((sec * 1000) / messages);
    if (sec === null) complete = false;
    else total += sec;
  }
  const functionsMs: Record<string, number> = {};
  let fnTotalMs = 0;
  for (const [fn, f] of Object.entries(functions ?? {})) {
    if (f.cpuMs === undefined || f.cpuMs <= 0) continue;
    functionsMs[fn] = r2(f.cpuMs / messages);
    fnTotalMs += f.cpuMs;
  }
  const runtimeMs = processesMs.runtime ?? null;
  const outsideMs =
    runtimeMs !== null && functions ? r2(Math.max(0, runtimeMs - fnTotalMs / messages)) : null;
  const split =
    outsideMs !== null && threads
      ? {
          main: r2(threads.mainMs / messages),
          helpers: r2(threads.startupThreadsMs / messages),
          envs: r2(Math.max(0, outsideMs - (threads.mainMs + threads.startupThreadsMs) / messages)),
        }
      : null;
  const ranking: { part: string; ms: number }[] = [];
  for (const [fn, ms] of Object.entries(functionsMs)) ranking.push({ part: fn, ms });
  if (split) {
    ranking.push({ part: 'runtime main thread', ms: split.main });
    ranking.push({ part: 'runtime V8/libuv threads (JIT compiler, GC)', ms: split.helpers });
    ranking.push({ part: 'environments outside invocations', ms: split.envs });
  } else if (outsideMs !== null) ranking.push({ part: 'runtime outside invocations', ms: outsideMs });
  else if (runtimeMs !== null) ranking.push({ part: 'runtime', ms: runtimeMs });
  for (const name of SYSTEM_PROCESSES) {
    const ms = processesMs[name];
    if (name !== 'runtime' && ms !== null && ms !== undefined) ranking.push({ part: name, ms });
  }
  ranking.sort((a, b) => b.ms - a.ms);
  return {
    messages,
    allInMs: complete ? r2((total * 1000) / messages) : null,
    processesMs,
    functionsMs,
    runtimeOutsideInvocationsMs: outsideMs,
    runtimeMainThreadMs: split ? split.main : outsideMs,
    runtimeHelperThreadsMs: split ? split.helpers : null,
    environmentsOutsideInvocationsMs: split ? split.envs : null,
    ranking,
  };
}
