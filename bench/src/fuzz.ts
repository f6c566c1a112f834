/**
 * WebSocket fuzzer: N generated hostile frames (fuzz-gen.ts) against a live runtime with the real handlers.
 * Every frame gets exactly one answer, checked against the contract: an `error` frame with a string `code`
 * (the connection stays open), or the connection closed with the contract's code (1009 too big, 1003 binary).
 * Afterwards the runtime must still be alive and answer a ping.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { mapLimit } from '@chat/kit/async';
import type WebSocket from 'ws';
import { type Api, openSocket } from './client.ts';
import { FrameGenerator, type FuzzFrame } from './fuzz-gen.ts';
import { log, Progress } from './progress.ts';
import type { RuntimeHandle } from './runtime.ts';
import { jsonSummary, Recorder } from './stats.ts';
import { retrying } from './world.ts';

export interface FuzzOptions {
  frames: number;
  connections: number;
  seed: number;
  /** Per connection; the runtime answers `rate_limited` above 20 frames/s. */
  framesPerSecondPerConnection: number;
  answerTimeoutMs: number;
  /** Hard bound on the whole run. */
  budgetMs: number;
}

export interface FuzzFailure {
  index: number;
  category: string;
  expected: string;
  got: string;
  frame: string;
}

export interface FuzzResult {
  seed: number;
  framesSent: number;
  byCategory: Record<string, number>;
  answers: {
    errorFrames: number;
    closes: Record<string, number>;
    errorCodes: Record<string, number>;
    errorCodesByCategory: Record<string, Record<string, number>>;
    internalSamples: string[];
  };
  /** Answers that break the contract (not an error frame, wrong close code, a close instead of an error). */
  violations: number;
  unanswered: number;
  failures: FuzzFailure[];
  reconnects: number;
  answerLatencyMs: ReturnType<typeof jsonSummary>;
  runtimeAlive: boolean;
  pingAfter: boolean;
  functionErrors: Record<string, number> | null;
  /** Times the runtime process died (each followed by a fresh runtime when respawning). */
  crashes: { afterFrames: number; stderr: string; culprit: { category: string; frame: string } | null }[];
  /** Categories left out after one of their frames crashed the runtime (so the rest still gets fuzzed). */
  excludedCategories: string[];
  durationSec: number;
  ok: boolean;
}

interface Waiter {
  resolve: (a: { kind: 'message'; raw: string } | { kind: 'close'; code: number }) => void;
}

interface FuzzConn {
  ws: WebSocket | null;
  waiter: Waiter | null;
  pending: ({ kind: 'message'; raw: string } | { kind: 'close'; code: number })[];
}

export function sendFuzzFrame(ws: WebSocket, f: FuzzFrame): void {
  const p = f.payload;
  if ('text' in p) ws.send(p.text);
  else if ('binary' in p) ws.send(p.binary, { binary: true });
  else if ('rawText' in p) ws.send(p.rawText, { binary: false });
  else for (const [k, frag] of p.fragments.entries()) ws.send(frag, { fin: k === p.fragments.length - 1 });
}

const describeFrame = (f: FuzzFrame): string => {
  const p = f.payload;
  if ('text' in p) return p.text.length > 300 ? `${p.text.slice(0, 300)}… (${p.text.length} chars)` : p.text;
  if ('binary' in p) return `<binary ${p.binary.length} bytes>`;
  if ('rawText' in p) return `<text frame, raw bytes ${p.rawText.toString('hex')}>`;
  return `<${p.fragments.length} fragments>`;
};

export async function runFuzz(
  firstRuntime: RuntimeHandle,
  api: Api,
  accessToken: () => string,
  conversationIds: string[],
  opts: FuzzOptions,
  /** Start a fresh runtime after a crash, to keep fuzzing (each crash is recorded). */
  respawn?: () => Promise<RuntimeHandle>,
): Promise<FuzzResult & { runtime: RuntimeHandle }> {
  let rt = firstRuntime;
  const crashes: FuzzResult['crashes'] = [];
  const gen = new FrameGenerator(opts.seed, conversationIds);
  const byCategory: Record<string, number> = {};
  const closes: Record<string, number> = {};
  const errorCodes: Record<string, number> = {};
  const errorCodesByCategory: Record<string, Record<string, number>> = {};
  /** Frames answered with `internal` (a server-side failure, not a refusal of the frame). */
  const internalSamples: string[] = [];
  const failures: FuzzFailure[] = [];
  const latency = new Recorder(opts.frames);
  let errorFrames = 0;
  let violations = 0;
  let unanswered = 0;
  let reconnects = 0;
  let sent = 0;
  let crashed = false;
  let connectFailures = 0;
  const t0 = performance.now();
  const deadline = t0 + opts.budgetMs;

  const connect = async (c: FuzzConn) => {
    const { ws } = await retrying(async () => {
      const { ticket } = await api.ticket(accessToken());
      return openSocket(rt.endpoints.wsUrl, ticket, () => {});
    }, 5);
    ws.removeAllListeners('message');
    ws.on('message', (data, isBinary) =>
      push(c, { kind: 'message', raw: isBinary ? '<binary>' : data.toString() }),
    );
    ws.on('close', (code) => push(c, { kind: 'close', code }));
    ws.on('error', () => {});
    c.ws = ws;
  };
  const push = (c: FuzzConn, a: FuzzConn['pending'][number]) => {
    if (c.waiter) {
      const w = c.waiter;
      c.waiter = null;
      w.resolve(a);
    } else c.pending.push(a);
  };
  const next = (c: FuzzConn, timeoutMs: number) =>
    new Promise<FuzzConn['pending'][number] | null>((resolve) => {
      const queued = c.pending.shift();
      if (queued) return resolve(queued);
      const t = setTimeout(() => {
        c.waiter = null;
        resolve(null);
      }, timeoutMs);
      c.waiter = {
        resolve: (a) => {
          clearTimeout(t);
          resolve(a);
        },
      };
    });
  const fail = (f: FuzzFrame, got: string) => {
    violations++;
    // Keep up to 50 samples, and up to 10 of each kind of answer (a crash must not crowd out the rest).
    const kind = got.slice(0, 24);
    const sameKind = failures.filter((x) => x.got.slice(0, 24) === kind).length;
    if (failures.length < 50 || (sameKind < 10 && failures.length < 200)) {
      failures.push({
        index: f.index,
        category: f.category,
        expected: f.expect.kind === 'error' ? 'error frame' : `close ${f.expect.codes.join('/')}`,
        got: got.slice(0, 300),
        frame: describeFrame(f),
      });
    }
  };

  const progress = new Progress({
    label: 'fuzz',
    totalSeconds: Math.round(opts.frames / (opts.connections * opts.framesPerSecondPerConnection)),
    status: () =>
      `frames ${sent}/${opts.frames} violations ${violations} unanswered ${unanswered} reconnects ${reconnects}`,
  }).start();

  const conns: FuzzConn[] = Array.from({ length: opts.connections }, () => ({
    ws: null,
    waiter: null,
    pending: [],
  }));
  /** Open a fresh connection, send `ping`, wait for `pong`. */
  const pingPong = async (timeoutMs: number): Promise<boolean> => {
    const { ticket } = await api.ticket(accessToken());
    let resolvePong: (ok: boolean) => void = () => {};
    const pong = new Promise<boolean>((r) => {
      resolvePong = r;
    });
    const { ws } = await openSocket(rt.endpoints.wsUrl, ticket, (ev) => {
      if (ev.type === 'pong') resolvePong(true);
    });
    ws.send(JSON.stringify({ action: 'ping' }));
    const ok = await Promise.race([pong, delay(timeoutMs, false)]);
    ws.close();
    return ok;
  };
  const minGapMs = 1000 / opts.framesPerSecondPerConnection;
  const inFlight = new Map<FuzzConn, FuzzFrame>();
  const excluded = new Set<string>();
  const nextFrame = (): FuzzFrame => {
    let f = gen.next();
    for (let i = 0; i < 1000 && excluded.has(f.category); i++) f = gen.next();
    return f;
  };
  /** After a crash: replay the frames that were in flight, one at a time, on a fresh runtime; the one that kills it is the culprit. */
  const findCulprit = async (suspects: FuzzFrame[]): Promise<FuzzFrame | null> => {
    const probe: FuzzConn = { ws: null, waiter: null, pending: [] };
    for (const f of suspects) {
      if (!probe.ws || probe.ws.readyState !== probe.ws.OPEN) {
        probe.pending = [];
        await connect(probe);
      }
      sendFuzzFrame(probe.ws as WebSocket, f);
      await next(probe, 2_000);
      await delay(300);
      if (!rt.alive()) return f;
    }
    probe.ws?.terminate();
    return null;
  };

  for (let round = 0; round <= 5; round++) {
    await mapLimit(conns, 8, connect);
    await Promise.all(
      conns.map(async (c) => {
        while (sent < opts.frames && performance.now() < deadline && !crashed) {
          if (!c.ws || c.ws.readyState !== c.ws.OPEN) {
            reconnects++;
            c.pending = [];
            try {
              await connect(c);
            } catch {
              if (!rt.alive()) crashed = true;
              else connectFailures++;
              if (crashed || connectFailures > 20) break;
              continue;
            }
          }
          const f = nextFrame();
          sent++;
          byCategory[f.category] = (byCategory[f.category] ?? 0) + 1;
          const ws = c.ws as WebSocket;
          const started = performance.now();
          inFlight.set(c, f);
          try {
            sendFuzzFrame(ws, f);
          } catch (err) {
            fail(f, `send threw: ${err instanceof Error ? err.message : String(err)}`);
            continue;
          }
          const a = await next(c, opts.answerTimeoutMs);
          // An abnormal close (1006) may be the runtime dying: keep the frame as a suspect.
          if (a && !(a.kind === 'close' && a.code === 1006)) inFlight.delete(c);
          latency.add(performance.now() - started);
          if (!rt.alive()) {
            crashed = true;
            fail(f, 'the runtime process died');
            break;
          }
          if (a === null) {
            unanswered++;
            fail(f, 'no answer');
          } else if (a.kind === 'close') {
            closes[a.code] = (closes[a.code] ?? 0) + 1;
            if (f.expect.kind !== 'close' || !f.expect.codes.includes(a.code)) fail(f, `close ${a.code}`);
            c.ws = null;
          } else {
            let parsed: { type?: unknown; code?: unknown; message?: unknown } | null = null;
            try {
              parsed = JSON.parse(a.raw);
            } catch {
              // not JSON: a violation
            }
            if (
              parsed?.type === 'error' &&
              typeof parsed.code === 'string' &&
              typeof parsed.message === 'string'
            ) {
              errorFrames++;
              errorCodes[parsed.code] = (errorCodes[parsed.code] ?? 0) + 1;
              const perCat = errorCodesByCategory[f.category] ?? {};
              errorCodesByCategory[f.category] = perCat;
              perCat[parsed.code] = (perCat[parsed.code] ?? 0) + 1;
              if (parsed.code === 'internal' && internalSamples.length < 10)
                internalSamples.push(describeFrame(f));
              if (f.expect.kind !== 'error') {
                // An error frame where a close was due: wait briefly for the close that must follow.
                const after = await next(c, 1_000);
                if (after?.kind === 'close' && f.expect.codes.includes(after.code)) {
                  closes[after.code] = (closes[after.code] ?? 0) + 1;
                  c.ws = null;
                } else fail(f, `error frame ${a.raw}`);
              }
            } else {
              fail(f, a.raw);
            }
          }
          const wait = minGapMs - (performance.now() - started);
          if (wait > 0) await delay(wait);
        }
      }),
    );
    if (!crashed) break;
    const crash: FuzzResult['crashes'][number] = {
      afterFrames: sent,
      stderr: rt.stderrTail().slice(-1500),
      culprit: null,
    };
    crashes.push(crash);
    const suspects = [...inFlight.values()];
    inFlight.clear();
    log(
      `fuzz: the runtime died after ${sent} frames (crash ${crashes.length})${respawn ? '; starting a fresh one' : ''}`,
    );
    if (!respawn || crashes.length > 5 || sent >= opts.frames) break;
    for (const c of conns) {
      c.ws?.terminate();
      c.ws = null;
      c.pending = [];
      c.waiter = null;
    }
    await rt.stop();
    rt = await respawn();
    api.httpUrl = rt.endpoints.httpUrl;
    crashed = false;
    const culprit = await findCulprit(suspects).catch(() => null);
    if (culprit) {
      crash.culprit = { category: culprit.category, frame: describeFrame(culprit) };
      excluded.add(culprit.category);
      log(
        `fuzz: replay found the frame that kills the runtime (${culprit.category}); leaving that category out`,
      );
      await rt.stop();
      rt = await respawn();
      api.httpUrl = rt.endpoints.httpUrl;
    }
    // A fresh runtime has cold environments: wait for one pong before fuzzing on, so that cold starts are not
    // counted as unanswered frames.
    await pingPong(30_000).catch(() => false);
  }
  progress.stop();
  for (const c of conns) c.ws?.terminate();

  // Still alive and still serving?
  let pingAfter = false;
  if (!crashed) {
    try {
      pingAfter = await pingPong(5_000);
    } catch (err) {
      log(`fuzz: health check failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const metrics = await rt.metrics().catch(() => null);
  const functionErrors = metrics
    ? Object.fromEntries(Object.entries(metrics).map(([n, m]) => [n, m.errors + m.timeouts]))
    : null;
  const runtimeAlive = rt.alive();
  return {
    seed: opts.seed,
    framesSent: sent,
    byCategory,
    answers: { errorFrames, closes, errorCodes, errorCodesByCategory, internalSamples },
    violations,
    unanswered,
    failures,
    reconnects,
    answerLatencyMs: jsonSummary(latency.summary()),
    runtimeAlive,
    pingAfter,
    functionErrors,
    crashes,
    excludedCategories: [...excluded],
    runtime: rt,
    durationSec: Math.round((performance.now() - t0) / 100) / 10,
    ok:
      violations === 0 &&
      unanswered === 0 &&
      crashes.length === 0 &&
      runtimeAlive &&
      pingAfter &&
      sent >= opts.frames,
  };
}
