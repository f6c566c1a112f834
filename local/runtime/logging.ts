/**
 * Where the runtime's lines go (`LocalRuntimeOptions.log`):
 *
 * - `'verbose'` (also `'inherit'`): every line on stdout, prefixed with its source: functions' console output,
 *   the platform lines of every invocation (START, END, REPORT), every WebSocket CONNECT and DISCONNECT;
 * - `'summary'`: the same without the per-invocation lines (the platform's, and the functions' structured lines
 *   below WARN, `isRoutineLogLine`), and every few seconds one line of what happened (invocations per function,
 *   errors, p50/p99 duration, open connections);
 * - `'silent'`: nothing; a function: every line, to it.
 *
 * Per-invocation lines are built only when something reads them (a verbose sink, a function, or a listener of
 * the runtime's `log` event): `RuntimeLog.detail.enabled` says so, and the callers check it before formatting.
 */
import type { EventEmitter } from 'node:events';
import type { FunctionMetrics } from './lambda/types.ts';

export type LogOption =
  | 'inherit'
  | 'verbose'
  | 'summary'
  | 'silent'
  | ((source: string, line: string) => void);

export type LogFn = (source: string, line: string) => void;

/** A sink for the lines that come once per invocation or connection; `enabled` false ⇒ do not even build them. */
export interface DetailLog extends LogFn {
  readonly enabled: boolean;
}

/** The runtime's log: `log(source, line)` for lines every mode prints, `log.detail` for the verbose-only ones. */
export interface RuntimeLog extends LogFn {
  readonly detail: DetailLog;
}

/** The per-invocation sink of a log: its `detail`, or (a plain function) the log itself, always enabled. */
export const detailOf = (log: LogFn): DetailLog => {
  const d = (log as Partial<RuntimeLog>).detail;
  if (d) return d;
  const f = (source: string, line: string): void => log(source, line);
  return Object.assign(f, { enabled: true });
};

const stdoutSink: LogFn = (source, line) => {
  process.stdout.write(`[${source}] ${line}\n`);
};

/** Both sinks reach `events`' `log` listeners; per-invocation lines are built while someone listens. */
export const createRuntimeLog = (opt: LogOption | undefined, events: EventEmitter): RuntimeLog => {
  const sink = typeof opt === 'function' ? opt : opt === 'silent' ? undefined : stdoutSink;
  const detailSink = opt === 'summary' ? undefined : sink;
  const listening = (): boolean => events.listenerCount('log') > 0;
  const make = (to: LogFn | undefined): LogFn => {
    return (source, line) => {
      to?.(source, line);
      if (listening()) events.emit('log', { source, line });
    };
  };
  const detail = make(detailSink);
  Object.defineProperty(detail, 'enabled', { get: () => detailSink !== undefined || listening() });
  return Object.assign(make(sink), { detail: detail as DetailLog });
};

/**
 * A function's structured log line below WARN (`{"level":"INFO",…}`, as Powertools' logger writes them first): a
 * per-invocation line like START/END/REPORT, printed only in verbose mode. Warnings, errors and anything else a
 * function writes (a `console.log` while debugging) print in every mode.
 */
export const isRoutineLogLine = (line: string): boolean => /^\{"level":"(?:INFO|DEBUG|TRACE)"/.test(line);

/** The `log` option's mode: `'summary'` prints the periodic summary. */
export const logMode = (opt: LogOption | undefined): 'verbose' | 'summary' | 'silent' | 'custom' =>
  typeof opt === 'function' ? 'custom' : opt === 'silent' || opt === 'summary' ? opt : 'verbose';

export interface SummarySources {
  metrics(): Record<string, FunctionMetrics>;
  connections(): number;
}

interface Seen {
  invocations: number;
  errors: number;
}

const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

/** One summary line for what happened since `seen` (updated), or undefined when nothing did. */
export const summaryLine = (
  metrics: Record<string, FunctionMetrics>,
  connections: number,
  seen: Map<string, Seen>,
  lastConnections: { n: number },
): string | undefined => {
  const parts: string[] = [];
  for (const [fn, m] of Object.entries(metrics)) {
    const before = seen.get(fn) ?? { invocations: 0, errors: 0 };
    // resetMetrics() starts the counters again.
    if (m.invocations < before.invocations) before.invocations = before.errors = 0;
    const n = m.invocations - before.invocations;
    const errors = m.errors - before.errors;
    seen.set(fn, { invocations: m.invocations, errors: m.errors });
    if (n <= 0) continue;
    const recent = m.durationsMs.slice(-Math.min(n, m.durationsMs.length)).sort((a, b) => a - b);
    const q = (p: number): number =>
      recent[Math.min(recent.length - 1, Math.ceil(p * recent.length) - 1)] ?? 0;
    parts.push(
      `${fn} ${n}${errors > 0 ? ` (${errors} error${errors > 1 ? 's' : ''})` : ''} p50 ${ms(q(0.5))} ms p99 ${ms(q(0.99))} ms`,
    );
  }
  if (parts.length === 0 && connections === lastConnections.n) return undefined;
  lastConnections.n = connections;
  return `${parts.length > 0 ? parts.join(', ') : 'no invocations'}; ${connections} connection${connections === 1 ? '' : 's'}`;
};

/** Prints a summary line every `everyMs` while something happens; returns the function that stops it. */
export const startSummary = (log: LogFn, sources: SummarySources, everyMs = 5_000): (() => void) => {
  const seen = new Map<string, Seen>();
  const last = { n: 0 };
  let at = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const line = summaryLine(sources.metrics(), sources.connections(), seen, last);
    if (line !== undefined) log('runtime', `last ${((now - at) / 1000).toFixed(0)} s: ${line}`);
    at = now;
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
};
