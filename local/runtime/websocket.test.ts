/**
 * The WebSocket API emulator over real sockets: $connect gating, route selection, route responses, the error
 * frames API Gateway sends, size/type/idle/duration limits and $disconnect events.
 */

import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '@chat/kit/async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWs, refusal, type WsClient } from '../testing/ws-client.ts';
import { type LocalRuntime, startLocalRuntime } from './index.ts';
import { fixture, type RecordedEvent, recorder } from './test-helpers.ts';

const wsRoutes = [
  { routeKey: '$connect', fn: 'connect', returnResponse: false },
  { routeKey: '$disconnect', fn: 'disconnect', returnResponse: false },
  { routeKey: '$default', fn: 'message', returnResponse: true },
  { routeKey: 'echo', fn: 'message', returnResponse: true },
  { routeKey: '5', fn: 'message', returnResponse: true },
  { routeKey: 'silent', fn: 'message', returnResponse: false },
];

const start = (extra: Parameters<typeof startLocalRuntime>[0] = {}) =>
  startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    log: 'silent',
    kafka: false,
    schedules: false,
    functions: [],
    functionOverrides: {
      connect: { entry: fixture('ws-connect.ts'), timeoutSeconds: 5 },
      disconnect: fixture('ok.ts'),
      message: { entry: fixture('ws-message.ts'), timeoutSeconds: 5 },
    },
    ...extra,
    routeTable: {
      functionDefs: {},
      wsRoutes,
      httpRoutes: [],
      kafkaConsumers: [],
      schedules: [],
      ...extra.routeTable,
    },
  });

describe('When a client connects', () => {
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await start();
  });
  afterAll(() => rt.stop());

  it('upgrades once $connect returns 200 and hands out an API Gateway style connection id', async () => {
    const c = await connectWs(`${rt.wsUrl}/?ticket=abc`);
    c.ws.send(JSON.stringify({ action: 'echo', echoEvent: true }));
    const reply = JSON.parse(await c.nextFrame());
    expect(reply.routeKey).toBe('echo');
    expect(reply.event.requestContext.connectionId).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    expect(rt.connections()).toContain(reply.event.requestContext.connectionId);
    c.ws.close();
  });

  it('refuses the handshake with the status $connect returned (401)', async () => {
    const r = await refusal(`${rt.wsUrl}/?status=401&body=nope`);
    expect(r.status).toBe(401);
    expect(r.body).toBe('nope');
  });

  it('refuses with any other non-2xx status too (403)', async () => {
    expect((await refusal(`${rt.wsUrl}/?status=403`)).status).toBe(403);
  });

  it('answers 502 when $connect throws', async () => {
    const r = await refusal(`${rt.wsUrl}/?throw=1`);
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body).message).toBe('Internal server error');
  });

  it('refuses a path that is neither / nor the stage with 403', async () => {
    expect((await refusal(`${rt.wsUrl}/elsewhere`)).status).toBe(403);
  });

  it('accepts the stage path', async () => {
    const c = await connectWs(`${rt.wsUrl}/local`);
    c.ws.close();
  });

  it('negotiates the subprotocol $connect returns in Sec-WebSocket-Protocol', async () => {
    const c = await connectWs(`${rt.wsUrl}/?protocol=chat.v1`, { protocols: ['chat.v1'] });
    expect(c.ws.protocol).toBe('chat.v1');
    c.ws.close();
  });
});

describe('When a client sends frames', () => {
  let rt: LocalRuntime;
  let messageEvents: RecordedEvent[];
  beforeAll(async () => {
    rt = await start();
    messageEvents = recorder(rt, 'message');
  });
  afterAll(() => rt.stop());

  it('selects the route from $request.body.action, stringified', async () => {
    const c = await connectWs(rt.wsUrl);
    const route = async (frame: string): Promise<string> => {
      c.ws.send(frame);
      return JSON.parse(await c.nextFrame()).routeKey;
    };
    expect(await route(JSON.stringify({ action: 'echo' }))).toBe('echo');
    expect(await route(JSON.stringify({ action: 5 }))).toBe('5');
    expect(await route(JSON.stringify({ action: 'unknown' }))).toBe('$default');
    expect(await route(JSON.stringify({ nothing: true }))).toBe('$default');
    expect(await route('this is not json')).toBe('$default');
    expect(await route(JSON.stringify({ action: '$connect' }))).toBe('$default');
    c.ws.close();
  });

  it('sends an action too deeply nested to stringify to $default, and lives on', async () => {
    const c = await connectWs(rt.wsUrl);
    const depth = 12_000; // 24 KB: under the 32 KB frame limit, beyond what JSON.stringify can recurse
    c.ws.send(`{"action":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    expect(JSON.parse(await c.nextFrame()).routeKey).toBe('$default');
    c.ws.send(JSON.stringify({ action: 'echo' }));
    expect(JSON.parse(await c.nextFrame()).routeKey).toBe('echo');
    c.ws.close();
  });

  it('sends nothing back for a route without a route response', async () => {
    const c = await connectWs(rt.wsUrl);
    const before = messageEvents.length;
    c.ws.send(JSON.stringify({ action: 'silent', seq: 1 }));
    await waitFor(() => messageEvents.length > before || undefined, {
      timeoutMs: 5_000,
      what: 'the silent route to run',
    });
    c.ws.send(JSON.stringify({ action: 'echo', seq: 2 }));
    expect(JSON.parse(await c.nextFrame()).seq).toBe(2);
    expect(c.frames).toHaveLength(1);
    c.ws.close();
  });

  it('sends the Internal server error frame when the function throws, and keeps the connection open', async () => {
    const c = await connectWs(rt.wsUrl);
    c.ws.send(JSON.stringify({ action: 'echo', throw: true }));
    const frame = JSON.parse(await c.nextFrame());
    expect(Object.keys(frame)).toEqual(['message', 'connectionId', 'requestId']);
    expect(frame.message).toBe('Internal server error');
    expect(frame.connectionId).toBe(rt.connections().find((id) => id === frame.connectionId));
    c.ws.send(JSON.stringify({ action: 'echo', seq: 7 }));
    expect(JSON.parse(await c.nextFrame()).seq).toBe(7);
    c.ws.close();
  });

  it('dispatches the frames of one connection concurrently (no ordering guarantee, like AWS)', async () => {
    const c = await connectWs(rt.wsUrl);
    // Two warm environments first, so a cold start does not decide the race.
    c.ws.send(JSON.stringify({ action: 'echo', sleepMs: 300 }));
    c.ws.send(JSON.stringify({ action: 'echo', sleepMs: 300 }));
    await c.nextFrame();
    await c.nextFrame();
    c.ws.send(JSON.stringify({ action: 'echo', seq: 1, sleepMs: 400 }));
    c.ws.send(JSON.stringify({ action: 'echo', seq: 2 }));
    expect(JSON.parse(await c.nextFrame()).seq).toBe(2);
    expect(JSON.parse(await c.nextFrame()).seq).toBe(1);
    c.ws.close();
  });

  it('closes with 1009 on a frame over 32 KB and never invokes the function for it', async () => {
    const c = await connectWs(rt.wsUrl);
    c.ws.send(JSON.stringify({ action: 'echo', pad: 'x'.repeat(40 * 1024) }));
    expect((await c.closed).code).toBe(1009);
    // A frame sent afterwards on another connection comes back: anything before it has been dispatched.
    const after = await connectWs(rt.wsUrl);
    after.send({ action: 'echo', seq: 'after-1009' });
    expect(JSON.parse(await after.nextFrame()).seq).toBe('after-1009');
    await after.close();
    expect(messageEvents.filter((e) => String(e.body).includes('xxxx'))).toEqual([]);
  });

  it('accepts a 100 KB message sent as frames of at most 32 KB', async () => {
    const c = await connectWs(rt.wsUrl);
    const text = JSON.stringify({ action: 'echo', seq: 100, pad: 'y'.repeat(100 * 1024) });
    const frameSize = 30 * 1024;
    for (let i = 0; i < text.length; i += frameSize) {
      c.ws.send(text.slice(i, i + frameSize), { fin: i + frameSize >= text.length });
    }
    expect(JSON.parse(await c.nextFrame()).seq).toBe(100);
    c.ws.close();
  });

  it('closes with 1009 on a message over 128 KB even when every frame is small', async () => {
    const c = await connectWs(rt.wsUrl);
    const text = 'z'.repeat(130 * 1024);
    const frameSize = 30 * 1024;
    for (let i = 0; i < text.length; i += frameSize) {
      c.ws.send(text.slice(i, i + frameSize), { fin: i + frameSize >= text.length });
    }
    expect((await c.closed).code).toBe(1009);
  });

  it('closes with 1003 on a binary frame', async () => {
    const c = await connectWs(rt.wsUrl);
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await c.closed).code).toBe(1003);
  });

  it('puts the body and the AWS request context in the message event', async () => {
    const c = await connectWs(rt.wsUrl, { headers: { 'User-Agent': 'runtime-test/1.0' } });
    const frame = JSON.stringify({ action: 'echo', echoEvent: true });
    c.ws.send(frame);
    const { event } = JSON.parse(await c.nextFrame());
    expect(event.body).toBe(frame);
    expect(event.isBase64Encoded).toBe(false);
    expect(event.headers).toBeUndefined();
    const ctx = event.requestContext;
    expect(ctx).toMatchObject({
      routeKey: 'echo',
      eventType: 'MESSAGE',
      messageDirection: 'IN',
      stage: 'local',
      identity: { sourceIp: '127.0.0.1', userAgent: 'runtime-test/1.0' },
    });
    expect(ctx.requestId).toBe(ctx.extendedRequestId);
    expect(ctx.messageId).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    expect(ctx.requestTime).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(ctx.requestTimeEpoch - Date.now())).toBeLessThan(10_000);
    expect(ctx.connectedAt).toBeLessThanOrEqual(ctx.requestTimeEpoch);
    c.ws.close();
  });
});

describe('When there is no $default route', () => {
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await start({ routeTable: { wsRoutes: wsRoutes.filter((r) => r.routeKey !== '$default') } });
  });
  afterAll(() => rt.stop());

  it('answers a frame that matches no route with the Forbidden frame', async () => {
    const c = await connectWs(rt.wsUrl);
    c.ws.send(JSON.stringify({ action: 'nowhere' }));
    const frame = JSON.parse(await c.nextFrame());
    expect(frame.message).toBe('Forbidden');
    expect(frame.connectionId).toMatch(/=$/);
    expect(frame.requestId).toMatch(/=$/);
    c.ws.close();
  });
});

describe('When a connection ends', () => {
  let rt: LocalRuntime;
  let disconnects: RecordedEvent[];
  beforeAll(async () => {
    rt = await start({
      limits: { idleTimeoutMs: 1_200, maxDurationMs: 60_000 },
      wsDispatch: 'per-connection',
    });
    disconnects = recorder(rt, 'disconnect');
  });
  afterAll(() => rt.stop());

  const disconnectOf = (id: string) =>
    waitFor(() => disconnects.find((e) => e.requestContext.connectionId === id), {
      timeoutMs: 10_000,
      what: '$disconnect',
    });

  const idOf = async (c: WsClient): Promise<string> => {
    c.ws.send(JSON.stringify({ action: 'echo', echoEvent: true }));
    return JSON.parse(await c.nextFrame()).event.requestContext.connectionId;
  };

  it('invokes $disconnect with the client close code and reason', async () => {
    const c = await connectWs(rt.wsUrl);
    const id = await idOf(c);
    c.ws.close(1000, 'bye');
    const e = await disconnectOf(id);
    expect(e.requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      disconnectStatusCode: 1000,
      disconnectReason: 'bye',
    });
    expect(e.headers).toEqual({
      Host: `127.0.0.1:${rt.wsPort}`,
      'x-api-key': '',
      'X-Forwarded-For': '',
      'x-restapi': '',
    });
  });

  it('reports 1005 when the client close frame has no status', async () => {
    const c = await connectWs(rt.wsUrl);
    const id = await idOf(c);
    c.ws.close();
    const e = await disconnectOf(id);
    expect(e.requestContext.disconnectStatusCode).toBe(1005);
    expect(e.requestContext.disconnectReason).toBe('Client-side close frame status not set');
  });

  it('reports 1006 for a dropped connection, or nothing when $disconnect is lost', async () => {
    const a = await connectWs(rt.wsUrl);
    const idA = await idOf(a);
    expect(rt.dropConnection(idA)).toBe(true);
    expect((await a.closed).code).toBe(1006);
    expect((await disconnectOf(idA)).requestContext.disconnectStatusCode).toBe(1006);

    const b = await connectWs(rt.wsUrl);
    const idB = await idOf(b);
    expect(rt.dropConnection(idB, { sendDisconnect: false })).toBe(true);
    await b.closed;
    // A connection closed afterwards gets its $disconnect: b's would have come by then.
    const c = await connectWs(rt.wsUrl);
    const idC = await idOf(c);
    await c.close();
    await disconnectOf(idC);
    expect(disconnects.find((e) => e.requestContext.connectionId === idB)).toBeUndefined();
    expect(rt.connections()).not.toContain(idB);
  });

  it('closes an idle connection with 1001 and reports it', async () => {
    const c = await connectWs(rt.wsUrl);
    const id = await idOf(c);
    const closed = await c.closed;
    expect(closed.code).toBe(1001);
    const e = await disconnectOf(id);
    expect(e.requestContext.disconnectStatusCode).toBe(1001);
  });

  it('keeps a connection that sends frames alive past the idle timeout', async () => {
    const c = await connectWs(rt.wsUrl);
    for (let i = 0; i < 4; i += 1) {
      await delay(500); // the time that passes is what is tested, not a wait for something
      c.ws.send(JSON.stringify({ action: 'silent' }));
    }
    expect(c.ws.readyState).toBe(c.ws.OPEN);
    c.ws.close();
  });

  it('processes the frames of one connection in order when dispatch is per-connection', async () => {
    const c = await connectWs(rt.wsUrl);
    c.ws.send(JSON.stringify({ action: 'echo', seq: 1, sleepMs: 300 }));
    c.ws.send(JSON.stringify({ action: 'echo', seq: 2 }));
    expect(JSON.parse(await c.nextFrame()).seq).toBe(1);
    expect(JSON.parse(await c.nextFrame()).seq).toBe(2);
    c.ws.close();
  });

  it('closes a connection at the maximum duration with 1001', async () => {
    const short = await start({ limits: { maxDurationMs: 800 } });
    try {
      // The maximum duration counts from the upgrade request (requestContext.connectedAt), before $connect runs,
      // so the clock starts before the client asks, not when it sees the connection open (a slow $connect on a
      // loaded machine used to make that 675 ms).
      const t0 = Date.now();
      const c = await connectWs(short.wsUrl);
      expect((await c.closed).code).toBe(1001);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(800);
    } finally {
      await short.stop();
    }
  });
});
