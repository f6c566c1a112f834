import { waitFor } from '@chat/kit/async';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { limits } from '#contracts/limits.ts';
import type { ServerEvent } from '#contracts/ws.ts';
import { ChatError } from '#core/errors.ts';
import { type WsEvent, type WsPorts, type WsResult, wsRoute } from '#transport/ws.ts';

// The WebSocket wrapper alone, over fake ports (no Redis, no management API): what it does per frame.

interface Fake {
  readonly ports: WsPorts;
  readonly pushed: { connectionIds: readonly string[]; event: ServerEvent }[];
  readonly closed: string[];
  readonly admitCalls: { connectionId: string; perSecond: number }[];
  readonly refreshes: { connectionId: string; userId: string }[];
  /** Settles the pending presence refreshes (in order). */
  readonly settleRefresh: (live: boolean | Error) => void;
}

function fakePorts(
  owners: Record<string, string>,
  options: { allowed?: boolean; refreshDue?: boolean } = {},
): Fake {
  const pushed: Fake['pushed'] = [];
  const closed: string[] = [];
  const admitCalls: Fake['admitCalls'] = [];
  const refreshes: Fake['refreshes'] = [];
  const pending: ((live: boolean | Error) => void)[] = [];
  return {
    pushed,
    closed,
    admitCalls,
    refreshes,
    settleRefresh: (live) => pending.shift()?.(live),
    ports: {
      admitFrame: async (connectionId, perSecond) => {
        admitCalls.push({ connectionId, perSecond });
        const userId = owners[connectionId];
        if (!userId) return null;
        return { userId, allowed: options.allowed ?? true, refreshDue: options.refreshDue ?? false };
      },
      refreshPresence: (connectionId, userId) => {
        refreshes.push({ connectionId, userId });
        return new Promise<boolean>((resolve, reject) =>
          pending.push((live) => (live instanceof Error ? reject(live) : resolve(live))),
        );
      },
      pushToConnections: async (connectionIds, event) => {
        pushed.push({ connectionIds, event });
      },
      closeConnection: async (connectionId) => {
        closed.push(connectionId);
      },
    },
  };
}

const event = (routeKey: string, connectionId: string, body: string): WsEvent =>
  ({
    requestContext: { routeKey, connectionId, requestId: `req-${connectionId}`, eventType: 'MESSAGE' },
    isBase64Encoded: false,
    body,
  }) as unknown as WsEvent;

const Echo = z.object({ action: z.literal('echo'), text: z.string(), clientMsgId: z.string().optional() });
const frame = (r: WsResult) => (r.body ? JSON.parse(r.body) : undefined);

describe('transport/ws wrapper', () => {
  it('pushes unauthorized to an unknown connection, closes it, and never runs the route', async () => {
    const fake = fakePorts({});
    let ran = false;
    const handler = wsRoute(fake.ports, Echo, async () => {
      ran = true;
      return { type: 'pong' };
    });
    const res = await handler(event('echo', 'lost-1', '{"action":"echo","text":"hi"}'));
    expect(res).toEqual({ statusCode: 200 });
    expect(fake.pushed).toEqual([
      {
        connectionIds: ['lost-1'],
        event: expect.objectContaining({ type: 'error', code: 'unauthorized', action: 'echo' }),
      },
    ]);
    expect(fake.closed).toEqual(['lost-1']);
    expect(ran).toBe(false);
  });

  it('runs the route for a known connection with its owner, and answers its event', async () => {
    const fake = fakePorts({ c1: 'alice' });
    const handler = wsRoute(fake.ports, Echo, async (f, ctx) => ({
      type: 'typing',
      conversationId: f.text,
      userId: ctx.userId,
      state: 'start',
    }));
    const res = await handler(event('echo', 'c1', '{"action":"echo","text":"conv"}'));
    expect(frame(res)).toEqual({ type: 'typing', conversationId: 'conv', userId: 'alice', state: 'start' });
    expect(fake.admitCalls).toEqual([{ connectionId: 'c1', perSecond: limits.wsFramesPerSecond }]);
    expect(fake.refreshes).toEqual([]);
    expect(fake.pushed).toEqual([]);
    expect(fake.closed).toEqual([]);
  });

  it('refuses over the frame rate, naming the clientMsgId, before validating', async () => {
    const fake = fakePorts({ c1: 'alice' }, { allowed: false });
    const handler = wsRoute(fake.ports, Echo, async () => ({ type: 'pong' }));
    const res = await handler(event('echo', 'c1', '{"action":"echo","clientMsgId":"m1"}'));
    expect(frame(res)).toMatchObject({
      type: 'error',
      code: 'rate_limited',
      clientMsgId: 'm1',
      action: 'echo',
    });
  });

  it('maps bad JSON, schema failures and ChatErrors to error frames; hides other errors', async () => {
    const fake = fakePorts({ c1: 'alice' });
    const failing = wsRoute(fake.ports, Echo, async (f) => {
      if (f.text === 'chat') throw new ChatError('not_member');
      throw new Error('secret detail');
    });
    expect(frame(await failing(event('echo', 'c1', '{nope')))).toMatchObject({ code: 'invalid_json' });
    expect(frame(await failing(event('echo', 'c1', '{"action":"echo"}')))).toMatchObject({
      code: 'invalid_frame',
      message: 'text: required',
    });
    expect(frame(await failing(event('echo', 'c1', '{"action":"echo","text":"chat"}')))).toMatchObject({
      code: 'not_member',
    });
    const hidden = frame(await failing(event('echo', 'c1', '{"action":"echo","text":"boom"}')));
    expect(hidden).toMatchObject({ code: 'internal' });
    expect(JSON.stringify(hidden)).not.toContain('secret detail');
  });

  it('passes when the frame reached the function (receivedAt, before any I/O) to the route', async () => {
    const fake = fakePorts({ c1: 'alice' });
    let received = 0;
    const handler = wsRoute(fake.ports, Echo, async (_f, ctx) => {
      received = ctx.receivedAt;
      return undefined;
    });
    const before = Date.now();
    await handler(event('echo', 'c1', '{"action":"echo","text":"t"}'));
    expect(received).toBeGreaterThanOrEqual(before);
    expect(received).toBeLessThanOrEqual(Date.now());
  });

  it('when presence is due, refreshes it beside the route and answers only once it is done', async () => {
    const fake = fakePorts({ c1: 'alice' }, { refreshDue: true });
    let refreshesSeenByRoute = -1;
    const handler = wsRoute(fake.ports, Echo, async () => {
      // Started before the route ran, not awaited by then.
      refreshesSeenByRoute = fake.refreshes.length;
      return { type: 'pong' };
    });
    let answered = false;
    const res = handler(event('echo', 'c1', '{"action":"echo","text":"t"}')).then((r) => {
      answered = true;
      return r;
    });
    await waitFor(() => refreshesSeenByRoute >= 0, { timeoutMs: 2_000, what: 'the route ran' });
    expect(refreshesSeenByRoute).toBe(1);
    expect(fake.refreshes).toEqual([{ connectionId: 'c1', userId: 'alice' }]);
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    fake.settleRefresh(true);
    expect(frame(await res)).toEqual({ type: 'pong' });
    expect(fake.closed).toEqual([]);
  });

  it('a refresh that finds the connection lapsed pushes unauthorized and closes it', async () => {
    const fake = fakePorts({ c1: 'alice' }, { refreshDue: true });
    const handler = wsRoute(fake.ports, Echo, async () => ({ type: 'pong' }));
    const res = handler(event('echo', 'c1', '{"action":"echo","text":"t"}'));
    await waitFor(() => fake.refreshes.length === 1, { timeoutMs: 2_000, what: 'the refresh started' });
    fake.settleRefresh(false);
    expect(await res).toEqual({ statusCode: 200 });
    expect(fake.pushed).toEqual([
      {
        connectionIds: ['c1'],
        event: expect.objectContaining({ type: 'error', code: 'unauthorized', action: 'echo' }),
      },
    ]);
    expect(fake.closed).toEqual(['c1']);
  });

  it('a failed refresh never fails the frame', async () => {
    const fake = fakePorts({ c1: 'alice' }, { refreshDue: true });
    const handler = wsRoute(fake.ports, Echo, async () => ({ type: 'pong' }));
    const res = handler(event('echo', 'c1', '{"action":"echo","text":"t"}'));
    await waitFor(() => fake.refreshes.length === 1, { timeoutMs: 2_000, what: 'the refresh started' });
    fake.settleRefresh(new Error('redis hiccup'));
    expect(frame(await res)).toEqual({ type: 'pong' });
    expect(fake.closed).toEqual([]);
  });
});
