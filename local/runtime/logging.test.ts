/** The runtime's log modes: per-invocation lines only when someone reads them; the summary line. */
import { EventEmitter } from 'node:events';
import { waitFor } from '@chat/kit/async';
import { describe, expect, it, vi } from 'vitest';
import { startLocalRuntime } from './index.ts';
import type { FunctionMetrics } from './lambda/types.ts';
import { createRuntimeLog, detailOf, isRoutineLogLine, summaryLine } from './logging.ts';
import { fixture } from './test-helpers.ts';

const metrics = (invocations: number, errors: number, durationsMs: number[]): FunctionMetrics =>
  ({ invocations, errors, durationsMs }) as unknown as FunctionMetrics;

describe('runtime log', () => {
  it('summary and silent do not want per-invocation lines unless a log listener is there', () => {
    for (const mode of ['summary', 'silent'] as const) {
      const events = new EventEmitter();
      const log = createRuntimeLog(mode, events);
      expect(log.detail.enabled).toBe(false);
      const seen: string[] = [];
      events.on('log', (e: { line: string }) => seen.push(e.line));
      expect(log.detail.enabled).toBe(true);
      log.detail('fn', 'START RequestId: x');
      expect(seen).toEqual(['START RequestId: x']);
    }
  });

  it('verbose and a function get every line; a plain function is its own detail sink', () => {
    expect(createRuntimeLog('verbose', new EventEmitter()).detail.enabled).toBe(true);
    const lines: string[] = [];
    const log = createRuntimeLog((s, l) => lines.push(`${s} ${l}`), new EventEmitter());
    log.detail('fn', 'END RequestId: x');
    log('ws', 'other');
    expect(lines).toEqual(['fn END RequestId: x', 'ws other']);
    const plain = detailOf((s, l) => lines.push(`${s}:${l}`));
    expect(plain.enabled).toBe(true);
  });

  it('the summary line counts what happened since the last one, and is skipped when nothing did', () => {
    const seen = new Map();
    const last = { n: 0 };
    const first = summaryLine(
      { wsPing: metrics(4, 1, [1, 2, 3, 100]), idle: metrics(0, 0, []) },
      3,
      seen,
      last,
    );
    expect(first).toBe('wsPing 4 (1 error) p50 2.0 ms p99 100 ms; 3 connections');
    expect(summaryLine({ wsPing: metrics(4, 1, [1, 2, 3, 100]) }, 3, seen, last)).toBeUndefined();
    expect(summaryLine({ wsPing: metrics(6, 1, [1, 2, 3, 100, 5, 7]) }, 1, seen, last)).toBe(
      'wsPing 2 p50 5.0 ms p99 7.0 ms; 1 connection',
    );
  });
});

describe("a function's own lines", () => {
  it('structured lines below WARN are per-invocation lines; the rest is not', () => {
    expect(isRoutineLogLine('{"level":"INFO","message":"persist: batch done"}')).toBe(true);
    expect(isRoutineLogLine('{"level":"DEBUG","message":"x"}')).toBe(true);
    expect(isRoutineLogLine('{"level":"WARN","message":"x"}')).toBe(false);
    expect(isRoutineLogLine('{"level":"ERROR","message":"x"}')).toBe(false);
    expect(isRoutineLogLine('2026-12-01T00:00:00.000Z\tid\tINFO\tconsole output')).toBe(false);
    expect(isRoutineLogLine('INFO plain text')).toBe(false);
  });

  it("npm start (summary) prints a function's warnings and console output and the HTTP API's 5xx; INFO lines and every request only when verbose", async () => {
    const printed = async (log: 'summary' | 'verbose'): Promise<string[]> => {
      const lines: string[] = [];
      const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        const text = String(chunk);
        if (text.startsWith('[levels]') || text.startsWith('[http]')) lines.push(text.trimEnd());
        return true;
      });
      const rt = await startLocalRuntime({
        wsPort: 0,
        httpPort: 0,
        kafka: false,
        schedules: false,
        functions: [],
        routeTable: {
          functionDefs: {},
          wsRoutes: [],
          httpRoutes: [{ method: 'GET', path: '/items', fn: 'echo' }],
          kafkaConsumers: [],
          schedules: [],
        },
        log,
        functionOverrides: { levels: fixture('log-levels.ts'), echo: fixture('http-echo.ts') },
      });
      try {
        await rt.invoke('levels', {});
        expect((await fetch(`${rt.httpUrl}/items`)).status).toBe(200);
        expect((await fetch(`${rt.httpUrl}/items?mode=throw`)).status).toBe(500);
        await waitFor(() => (lines.some((l) => l.includes('a developer debugging')) ? true : undefined), {
          timeoutMs: 10_000,
          what: "the function's console line",
        });
      } finally {
        await rt.stop();
        write.mockRestore();
      }
      return lines.filter((l) => !/(START|END|REPORT) RequestId/.test(l));
    };
    const summary = await printed('summary');
    expect(summary.some((l) => l.includes('worth a look'))).toBe(true);
    expect(summary.some((l) => l.includes('routine batch line'))).toBe(false);
    // the HTTP API's access lines: a 5xx in every mode, the rest when verbose
    expect(summary.filter((l) => l.startsWith('[http]'))).toEqual(['[http] GET /items?mode=throw 500']);
    const verbose = await printed('verbose');
    expect(verbose.some((l) => l.includes('routine batch line'))).toBe(true);
    expect(verbose.some((l) => l.includes('worth a look'))).toBe(true);
    expect(verbose.filter((l) => l.startsWith('[http]'))).toEqual([
      '[http] GET /items 200',
      '[http] GET /items?mode=throw 500',
    ]);
  }, 60_000);
});
