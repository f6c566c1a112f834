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
  readonly rateCalls: { connectionId: string; scope: string; perSecond: number }[];
}

function fakePorts(owners: Record<string, string>, options: { allowed?: boolean } = {}): Fake {
  const pushed: Fake['pushed'] = [];
  const closed: string[] = [];
  const rateCalls: Fake['rateCalls'] = [];
  return {
    pushed,
    closed,
    rateCalls,
    ports: {
      touchConnection: async (connectionId) => owners[connectionId] ?? null,
      withinRate: async (connectionId, scope, perSecond) => {
        rateCalls.push({ connectionId, scope, perSecond });
        return options.allowed ?? true;
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
    expect(fake.rateCalls).toEqual([
      { connectionId: 'c1', scope: 'frames', perSecond: limits.wsFramesPerSecond },
    ]);
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
});
