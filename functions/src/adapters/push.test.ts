/**
 * Push rounds over a real socket, under the retry policy (push-policy.ts): a transient failure (5xx, timeout)
 * is retried for that connection, from the event that failed, in order; a slow client (429) is skipped at once;
 * a gone one (410) is dropped; a connection that never recovers is given up after the last attempt, and the
 * whole call ends by the deadline. A stand-in management API answers from a script per connection; the
 * registry is the real Redis.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionDefs } from '#contracts/routes.ts';
import type { ServerEvent } from '#contracts/ws.ts';
import { beginInvocation } from '#platform/invocation.ts';
import { pushToConnections } from './push.ts';
import {
  classifyPushFailure,
  FANOUT_DEADLINE_MS,
  PUSH_DEADLINE_MS,
  type PushRetryPolicy,
  pushRetryPolicy,
  retryDelay,
} from './push-policy.ts';
import { closeRedis } from './redis/client.ts';
import { addConnection, touchConnection } from './redis/connections.ts';

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
      if (status === 0) return; // never answered (held until the client gives up)
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
  await closeRedis();
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
    // The second event fails twice (two of the policy's three attempts), then goes through.
    script.set('flaky', [200, 503, 503]);
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
    // slow: one call, never retried; down: the policy's three attempts.
    expect(requests).toBe(1 + pushRetryPolicy.attempts);
  });

  it('drops a gone connection (410) at once: removed from the registry, never retried', async () => {
    const id = `gone-${randomBytes(6).toString('hex')}`;
    // Registered a minute ago: past the grace period in which a 410 may be a `$connect` still running.
    await addConnection(id, `user-${id}`, Date.now() - 60_000);
    script.set(id, [410, 410, 410]);
    requests = 0;
    const result = await pushToConnections([id], events);
    expect(requests).toBe(1);
    expect(result.gone).toEqual([expect.objectContaining({ connectionId: id, userId: `user-${id}` })]);
    expect(result).toMatchObject({ delivered: 0, failed: 0 });
    expect(await touchConnection(id)).toBeNull();
  });

  it('ends by the deadline even when the API never answers (requests in flight are aborted)', async () => {
    script.set('silent', [0, 0, 0, 0]);
    const policy = { attempts: 3, backoffMs: [50, 50], deadlineMs: 600 };
    const started = Date.now();
    const result = await pushToConnections(['silent', 'prompt'], events, { policy });
    const took = Date.now() - started;
    // The client's own request limit is 5 s: only the deadline can end the call this early.
    expect(took).toBeGreaterThanOrEqual(policy.deadlineMs - 50);
    expect(took).toBeLessThan(policy.deadlineMs + 1_000);
    expect(result).toEqual({ delivered: 3, failed: 1, gone: [] });
    expect(users('prompt')).toEqual(['u1', 'u2', 'u3']);
  });
});

describe('a batch deadline across push calls (persistFanout: FANOUT_DEADLINE_MS)', () => {
  it("a call ends by the caller's deadline, before its own policy deadline (10 s); a later call of the batch tries nothing", {
    timeout: 8_000, // below THE policy's 10 s: only the batch deadline can end these calls in time
  }, async () => {
    script.set('hung-a', [0, 0, 0]);
    script.set('hung-b', [0, 0, 0]);
    const deadline = Date.now() + 300;
    requests = 0;
    const [a, b] = await Promise.all([
      pushToConnections(['hung-a'], events, { deadline }),
      pushToConnections(['hung-b'], events, { deadline }),
    ]);
    expect(a).toEqual({ delivered: 0, failed: 1, gone: [] });
    expect(b).toEqual({ delivered: 0, failed: 1, gone: [] });
    // The batch goes on to another conversation after the deadline: nothing is sent, nothing waits.
    requests = 0;
    const late = await pushToConnections(['late-1', 'late-2'], events, { deadline });
    expect(late).toEqual({ delivered: 0, failed: 2, gone: [] });
    expect(requests).toBe(0);
    expect(users('late-1')).toEqual([]);
  });
});

describe("the invocation's own time budget (every pushing function, whatever its timeout)", () => {
  it('a push ends before the function would time out, under the policy deadline (10 s)', {
    timeout: 8_000, // below the policy's 10 s: only the invocation's budget can end this call in time
  }, async () => {
    script.set('hung-c', [0, 0, 0]);
    // A 1.5 s budget (as Lambda's context reports it): waits end 0.5 s before it.
    beginInvocation({ getRemainingTimeInMillis: () => 1_500.7 }); // a fraction, as a context may report
    try {
      const started = Date.now();
      const result = await pushToConnections(['hung-c'], events);
      expect(result).toEqual({ delivered: 0, failed: 1, gone: [] });
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      beginInvocation(undefined);
    }
  });
});

describe('the push retry policy', () => {
  const policy: PushRetryPolicy = { attempts: 3, backoffMs: [300, 1_500], deadlineMs: 10_000 };
  const status = (httpStatusCode: number, name = 'Error') => ({ name, $metadata: { httpStatusCode } });

  it('classifies: 410 gone, 429 slow, 5xx/timeout/network transient, other 4xx permanent', () => {
    expect(classifyPushFailure(status(410, 'GoneException'))).toBe('gone');
    expect(classifyPushFailure({ name: 'GoneException' })).toBe('gone');
    expect(classifyPushFailure(status(429, 'LimitExceededException'))).toBe('slow');
    expect(classifyPushFailure(status(503))).toBe('transient');
    expect(classifyPushFailure({ name: 'TimeoutError', code: 'ETIMEDOUT' })).toBe('transient');
    expect(classifyPushFailure({ name: 'Error', code: 'ECONNRESET' })).toBe('transient');
    expect(classifyPushFailure(status(403, 'ForbiddenException'))).toBe('permanent');
    expect(classifyPushFailure(status(413))).toBe('permanent');
  });

  it('retries only transient failures, with its backoff, within attempts and the deadline', () => {
    const now = 1_000_000;
    const deadline = now + policy.deadlineMs;
    expect(retryDelay(policy, 'transient', 1, now, deadline)).toBe(300);
    expect(retryDelay(policy, 'transient', 2, now, deadline)).toBe(1_500);
    expect(retryDelay(policy, 'transient', 3, now, deadline)).toBeNull();
    for (const f of ['gone', 'slow', 'permanent'] as const)
      expect(retryDelay(policy, f, 1, now, deadline)).toBeNull();
    expect(retryDelay(policy, 'transient', 1, deadline - 300, deadline)).toBeNull();
    expect(retryDelay(policy, 'transient', 1, deadline - 301, deadline)).toBe(300);
  });

  it('THE policy: its worst case stays well under the 60 s function timeout', () => {
    expect(pushRetryPolicy.deadlineMs).toBe(PUSH_DEADLINE_MS);
    expect(PUSH_DEADLINE_MS).toBeLessThanOrEqual(10_000);
  });

  it("a whole batch's fan-out ends well under the persistFanout timeout (60 s, routes.ts)", () => {
    expect(FANOUT_DEADLINE_MS).toBeLessThanOrEqual(functionDefs.persistFanout.timeoutSeconds * 1000 * 0.5);
  });
});
