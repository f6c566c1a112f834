/** Helpers for the local runtime's own tests (real sockets, no mocks). */
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { InvokeStartEvent, LocalRuntime } from './index.ts';

export const fixture = (name: string): string =>
  fileURLToPath(new URL(`./test-fixtures/${name}`, import.meta.url));

export const waitFor = async <T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

export interface TestClient {
  readonly ws: WebSocket;
  readonly messages: string[];
  /** The next message not yet taken. */
  next(timeoutMs?: number): Promise<string>;
  readonly closed: Promise<{ code: number; reason: string }>;
}

/** Opens a WebSocket and collects its messages; rejects with the HTTP status if the upgrade is refused. */
export const connect = (
  url: string,
  opts: WebSocket.ClientOptions = {},
  protocols?: string[],
): Promise<TestClient> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, opts);
    const messages: string[] = [];
    let taken = 0;
    const waiters: Array<() => void> = [];
    ws.on('message', (data) => {
      messages.push(data.toString());
      for (const w of waiters.splice(0)) w();
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
        messages,
        closed,
        next: async (timeoutMs = 10_000) => {
          const deadline = Date.now() + timeoutMs;
          while (messages.length <= taken) {
            if (Date.now() > deadline) throw new Error('no message arrived');
            await new Promise<void>((r) => {
              waiters.push(r);
              setTimeout(r, 50);
            });
          }
          const m = messages[taken] ?? '';
          taken += 1;
          return m;
        },
      }),
    );
  });

/** The HTTP status a refused upgrade answered with. */
export const refusal = async (url: string): Promise<{ status: number; body: string }> => {
  try {
    const c = await connect(url);
    c.ws.close();
  } catch (e) {
    const err = e as { status?: number; body?: string };
    if (err.status !== undefined) return { status: err.status, body: err.body ?? '' };
    throw e;
  }
  throw new Error('the upgrade was accepted');
};

/** An event as a function received it (loosely typed for assertions). */
export interface RecordedEvent {
  readonly requestContext: { readonly connectionId: string } & Record<string, unknown>;
  readonly headers?: Record<string, string>;
  readonly [key: string]: unknown;
}

/** Collects, in order, the events a function is invoked with. */
export const recorder = (rt: LocalRuntime, fn: string): RecordedEvent[] => {
  const events: RecordedEvent[] = [];
  rt.events.on('invokeStart', (e: InvokeStartEvent) => {
    if (e.fn === fn) events.push(e.event as RecordedEvent);
  });
  return events;
};

/** Maps whose keys are data (header names, parameters, topic-partitions), not fields. */
const isOpenMap = (path: string): boolean =>
  /(^|\.)(headers|multiValueHeaders|queryStringParameters|multiValueQueryStringParameters|pathParameters|stageVariables|records)$/.test(
    path,
  ) || /headers\[\]$/.test(path);

/** Every `path: type` of a JSON value, open maps collapsed to `*`. */
export const shape = (value: unknown, path = '', out = new Set<string>()): string[] => {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  out.add(`${path || '$'}: ${type}`);
  if (Array.isArray(value)) for (const x of value) shape(x, `${path}[]`, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      shape(v, isOpenMap(path) ? `${path}.*` : path ? `${path}.${k}` : k, out);
    }
  }
  return [...out].sort();
};
