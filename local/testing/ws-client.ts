/**
 * The one WebSocket test client (functions' integration tests, the local runtime's tests, the web e2e harness,
 * the bench): a real socket that collects every frame, sends JSON, waits for the next frame matching a
 * predicate with a deadline, and closes and awaits the close. `connectWs` rejects with `{ status, body }` when
 * the upgrade is refused.
 */
import { withDeadline } from '@chat/kit/async';
import WebSocket from 'ws';

/** A server frame parsed as JSON; a frame that is not JSON is `{ unparsed: <text> }`. */
export type WsEvent = Record<string, unknown>;

export interface WsConnectOptions {
  /** Appended as `?ticket=` (URL-encoded). */
  readonly ticket?: string;
  /** Request headers of the upgrade (Origin, User-Agent, …). */
  readonly headers?: Record<string, string>;
  /** `Sec-WebSocket-Protocol` values. */
  readonly protocols?: string[];
  /** Deadline for the upgrade. @default 15_000 */
  readonly timeoutMs?: number;
}

export interface WsClient {
  readonly ws: WebSocket;
  /** Every text frame received so far, in order, as sent. */
  readonly frames: readonly string[];
  /** Every frame received so far, in order, parsed (see `WsEvent`). */
  readonly events: readonly WsEvent[];
  /** Sends a string as is, anything else as JSON. */
  send(frame: unknown): void;
  /**
   * The first event not taken by an earlier `next` that matches the predicate (events it skips stay
   * available); rejects after `timeoutMs` (default 15 s) listing what did arrive.
   */
  next(match?: (e: WsEvent) => boolean, timeoutMs?: number): Promise<WsEvent>;
  /** The next raw frame in arrival order (its own cursor, independent of `next`). */
  nextFrame(timeoutMs?: number): Promise<string>;
  /** Calls `listener` with every event from now on; returns the unsubscribe function. */
  onEvent(listener: (e: WsEvent) => void): () => void;
  /** Resolves with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Closes (default 1000) and awaits the close; terminates the socket if the handshake takes over `timeoutMs`. */
  close(code?: number, timeoutMs?: number): Promise<{ code: number; reason: string }>;
}

export class WsRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}`);
  }
}

const withTicket = (url: string, ticket?: string): string =>
  ticket === undefined ? url : `${url}${url.includes('?') ? '&' : '?'}ticket=${encodeURIComponent(ticket)}`;

export function connectWs(url: string, opts: WsConnectOptions = {}): Promise<WsClient> {
  const ws = new WebSocket(withTicket(url, opts.ticket), opts.protocols, { headers: opts.headers });
  const frames: string[] = [];
  const events: WsEvent[] = [];
  const taken = new Set<number>();
  let frameCursor = 0;
  const listeners = new Set<(e: WsEvent) => void>();
  ws.on('message', (data) => {
    const text = data.toString();
    let event: WsEvent;
    try {
      const parsed: unknown = JSON.parse(text);
      event = parsed !== null && typeof parsed === 'object' ? (parsed as WsEvent) : { unparsed: text };
    } catch {
      event = { unparsed: text };
    }
    frames.push(text);
    events.push(event);
    for (const l of listeners) l(event);
  });
  const closed = new Promise<{ code: number; reason: string }>((r) =>
    ws.on('close', (code, reason) => r({ code, reason: reason.toString() })),
  );

  /** Resolves with `pick()` once it returns a value, re-checking on every frame; rejects at the deadline. */
  const waitUntil = <T>(pick: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const v = pick();
        if (v === undefined) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`${what()} within ${timeoutMs} ms; got ${JSON.stringify(events).slice(0, 2000)}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });

  const client: WsClient = {
    ws,
    frames,
    events,
    closed,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    next: (match = () => true, timeoutMs = 15_000) =>
      waitUntil(
        () => {
          const i = events.findIndex((e, idx) => !taken.has(idx) && match(e));
          if (i < 0) return undefined;
          taken.add(i);
          return events[i];
        },
        timeoutMs,
        () => 'no matching event',
      ),
    nextFrame: (timeoutMs = 15_000) =>
      waitUntil(
        () => (frameCursor < frames.length ? frames[frameCursor++] : undefined),
        timeoutMs,
        () => `no frame #${frameCursor + 1}`,
      ),
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: async (code = 1000, timeoutMs = 5_000) => {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code);
      try {
        return await withDeadline(closed, timeoutMs, 'the close handshake');
      } catch {
        ws.terminate();
        return closed;
      }
    },
  };

  const opened = new Promise<WsClient>((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => reject(new WsRefused(res.statusCode ?? 0, body)));
    });
    ws.on('error', reject);
    ws.on('open', () => resolve(client));
  });
  return withDeadline(opened, opts.timeoutMs ?? 15_000, `the WebSocket upgrade of ${url}`).catch(
    (e: unknown) => {
      if (!(e instanceof WsRefused)) ws.terminate();
      throw e;
    },
  );
}

/** The status and body a refused upgrade answered with; throws if the upgrade was accepted. */
export async function refusal(
  url: string,
  opts: WsConnectOptions = {},
): Promise<{ status: number; body: string }> {
  let c: WsClient;
  try {
    c = await connectWs(url, opts);
  } catch (e) {
    if (e instanceof WsRefused) return { status: e.status, body: e.body };
    throw e;
  }
  await c.close();
  throw new Error('the upgrade was accepted');
}

/** The HTTP status of a refused upgrade. */
export const refusedWith = async (url: string, opts: WsConnectOptions = {}): Promise<number> =>
  (await refusal(url, opts)).status;
export * from './web-push.ts';
