import WebSocket from 'ws';

/**
 * A WebSocket test client over a real socket: collects server events (JSON), waits for one matching a
 * predicate, and reports the close code. `connectWs` rejects with `{ status }` when the upgrade is refused.
 */
export interface WsClient {
  readonly ws: WebSocket;
  /** Every event received so far, in order. */
  readonly events: Record<string, unknown>[];
  send(frame: unknown): void;
  /** The first event (not taken before) matching the predicate. */
  next(match?: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

export function connectWs(url: string): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const events: Record<string, unknown>[] = [];
    const taken = new Set<number>();
    const waiters = new Set<() => void>();
    ws.on('message', (data) => {
      try {
        events.push(JSON.parse(data.toString()));
      } catch {
        events.push({ unparsed: data.toString() });
      }
      for (const w of waiters) w();
    });
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on('close', (code, reason) => r({ code, reason: reason.toString() })),
    );
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () =>
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })),
      );
    });
    ws.on('error', (e) => reject(e));
    ws.on('open', () =>
      resolve({
        ws,
        events,
        closed,
        send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
        next: (match = () => true, timeoutMs = 15_000) =>
          new Promise((res, rej) => {
            const check = () => {
              const i = events.findIndex((e, idx) => !taken.has(idx) && match(e));
              if (i < 0) return false;
              taken.add(i);
              cleanup();
              res(events[i] as Record<string, unknown>);
              return true;
            };
            const timer = setTimeout(() => {
              cleanup();
              rej(
                new Error(
                  `no matching event within ${timeoutMs} ms; got ${JSON.stringify(events).slice(0, 2000)}`,
                ),
              );
            }, timeoutMs);
            const cleanup = () => {
              clearTimeout(timer);
              waiters.delete(waiter);
            };
            const waiter = () => {
              check();
            };
            waiters.add(waiter);
            check();
          }),
        close: async () => {
          if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
          await Promise.race([closed, new Promise((r) => setTimeout(r, 2_000))]);
        },
      }),
    );
  });
}

/** The HTTP status of a refused upgrade. */
export async function refusedWith(url: string): Promise<number> {
  try {
    const c = await connectWs(url);
    await c.close();
  } catch (e) {
    const status = (e as { status?: number }).status;
    if (status !== undefined) return status;
    throw e;
  }
  throw new Error('the upgrade was accepted');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
