/**
 * Push rounds over a real socket: a transient failure (5xx, timeout) is retried for that connection, from the
 * event that failed, in order; a slow client (429) is skipped at once; a connection that never recovers is
 * given up after the last round. A stand-in management API answers from a script per connection.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '#contracts/ws.ts';
import { pushToConnections } from './push.ts';

let server: Server;
/** Connection id → statuses to answer, in order (then 200). */
const script = new Map<string, number[]>();
const received = new Map<string, string[]>();
let requests = 0;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      const id = decodeURIComponent((req.url ?? '').split('/@connections/')[1] ?? '');
      const status = script.get(id)?.shift() ?? 200;
      if (status === 200) {
        const list = received.get(id) ?? [];
        list.push(Buffer.concat(chunks).toString());
        received.set(id, list);
      }
      res.writeHead(status, status === 429 ? { 'x-amzn-ErrorType': 'LimitExceededException' } : {}).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  for (const k of ['WS_MANAGEMENT_ENDPOINT', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'])
    saved[k] = process.env[k];
  Object.assign(process.env, {
    WS_MANAGEMENT_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_ACCESS_KEY_ID: 'AKIDPUSHTEST',
    AWS_SECRET_ACCESS_KEY: 'push-test-secret',
    AWS_REGION: 'us-east-1',
  });
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const events: ServerEvent[] = [1, 2, 3].map((n) => ({
  type: 'typing',
  conversationId: 'c',
  userId: `u${n}`,
  state: 'start',
}));
const users = (id: string) =>
  (received.get(id) ?? []).map((b) => (JSON.parse(b) as { userId: string }).userId);

describe('pushToConnections', () => {
  it('retries a transiently failing connection from the event that failed, keeping order, no repeats', async () => {
    // The second event fails 3 times (the client's own retry, then one round), then goes through.
    script.set('flaky', [200, 503, 503, 503]);
    const result = await pushToConnections(['flaky', 'fine'], events);
    expect(users('flaky')).toEqual(['u1', 'u2', 'u3']);
    expect(users('fine')).toEqual(['u1', 'u2', 'u3']);
    expect(result).toEqual({ delivered: 6, failed: 0, gone: [] });
  });

  it('skips a slow client (429) at once, and gives up on a connection that never recovers', async () => {
    script.set('slow', [429, 429, 429, 429, 429, 429, 429, 429]);
    script.set(
      'down',
      Array.from({ length: 20 }, () => 503),
    );
    requests = 0;
    const result = await pushToConnections(['slow', 'down'], events);
    expect(users('slow')).toEqual([]);
    expect(users('down')).toEqual([]);
    expect(result).toEqual({ delivered: 0, failed: 2, gone: [] });
    // slow: one call with its one retry; down: three rounds of one call and its retry.
    expect(requests).toBe(2 + 6);
  });
});
