/**
 * The management API (`/@connections/{id}`) driven by the real `@aws-sdk/client-apigatewaymanagementapi`
 * client, endpoint pointed at the emulator, dummy credentials: status codes and SDK error mapping as on AWS.
 */
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  ForbiddenException,
  GetConnectionCommand,
  GoneException,
  LimitExceededException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { waitFor } from '@chat/kit/async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWs, type WsClient } from '../testing/ws-client.ts';
import { FUNCTION_CREDENTIALS, type LocalRuntime, startLocalRuntime } from './index.ts';
import { fixture, type RecordedEvent, recorder } from './test-helpers.ts';

let rt: LocalRuntime;
let sdk: ApiGatewayManagementApiClient;
let connects: RecordedEvent[];
let disconnects: RecordedEvent[];

beforeAll(async () => {
  rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    log: 'silent',
    kafka: false,
    schedules: false,
    functions: [],
    functionOverrides: {
      connect: { entry: fixture('ws-connect.ts'), timeoutSeconds: 10 },
      disconnect: fixture('ok.ts'),
      message: { entry: fixture('ws-message.ts'), timeoutSeconds: 10 },
    },
    limits: { clientBufferLimitBytes: 64 * 1024 },
    routeTable: {
      functionDefs: {},
      wsRoutes: [
        { routeKey: '$connect', fn: 'connect', returnResponse: false },
        { routeKey: '$disconnect', fn: 'disconnect', returnResponse: false },
        { routeKey: '$default', fn: 'message', returnResponse: true },
      ],
      httpRoutes: [],
      kafkaConsumers: [],
      schedules: [],
    },
  });
  connects = recorder(rt, 'connect');
  disconnects = recorder(rt, 'disconnect');
  sdk = new ApiGatewayManagementApiClient({
    endpoint: rt.managementEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
  });
});

afterAll(async () => {
  sdk?.destroy();
  await rt?.stop();
});

/** Connects and returns the client with its connection id (from the $connect event). */
const open = async (query = ''): Promise<{ c: WsClient; id: string }> => {
  const before = connects.length;
  const c = await connectWs(`${rt.wsUrl}/${query}`, { headers: { 'User-Agent': 'mgmt-test' } });
  const e = await waitFor(() => connects[before], { timeoutMs: 5_000, what: '$connect event' });
  return { c, id: e.requestContext.connectionId };
};

describe('When the backend posts to a connection', () => {
  it('delivers the data to the client (200)', async () => {
    const { c, id } = await open();
    const out = await sdk.send(
      new PostToConnectionCommand({ ConnectionId: id, Data: new TextEncoder().encode('{"hi":1}') }),
    );
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(await c.nextFrame()).toBe('{"hi":1}');
    c.ws.close();
  });

  it('URL-encodes ids that contain + or / and still reaches the right client', async () => {
    // About a third of ids contain one of them; open until one does.
    const opened: Array<{ c: WsClient; id: string }> = [];
    let target: { c: WsClient; id: string } | undefined;
    for (let i = 0; i < 40 && !target; i += 1) {
      const o = await open();
      opened.push(o);
      if (/[+/]/.test(o.id)) target = o;
    }
    expect(target).toBeDefined();
    if (!target) return;
    await sdk.send(
      new PostToConnectionCommand({ ConnectionId: target.id, Data: new TextEncoder().encode('encoded') }),
    );
    expect(await target.c.nextFrame()).toBe('encoded');
    for (const o of opened) o.c.ws.close();
  });

  it('maps an unknown connection to GoneException (410, x-amzn-ErrorType)', async () => {
    const err = await sdk
      .send(new PostToConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=', Data: new Uint8Array([65]) }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GoneException);
    expect((err as GoneException).$metadata.httpStatusCode).toBe(410);
  });

  it('answers 410 for a connection that has closed', async () => {
    const { c, id } = await open();
    c.ws.close();
    await c.closed;
    await waitFor(() => disconnects.find((e) => e.requestContext.connectionId === id), {
      timeoutMs: 5_000,
      what: '$disconnect',
    });
    const err = await sdk
      .send(new PostToConnectionCommand({ ConnectionId: id, Data: new Uint8Array([65]) }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GoneException);
  });

  it('answers 410 while $connect is still running', async () => {
    const before = connects.length;
    const pending = connectWs(`${rt.wsUrl}/?sleepMs=1500`);
    const e = await waitFor(() => connects[before], { timeoutMs: 5_000, what: '$connect event' });
    const err = await sdk
      .send(
        new PostToConnectionCommand({
          ConnectionId: e.requestContext.connectionId,
          Data: new Uint8Array([65]),
        }),
      )
      .catch((x: unknown) => x);
    expect(err).toBeInstanceOf(GoneException);
    const c = await pending;
    c.ws.close();
  });

  it('accepts exactly 131,072 bytes and refuses one more with PayloadTooLargeException (413)', async () => {
    const { c, id } = await open();
    await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: new Uint8Array(131_072).fill(97) }));
    expect((await c.nextFrame()).length).toBe(131_072);
    const err = await sdk
      .send(new PostToConnectionCommand({ ConnectionId: id, Data: new Uint8Array(131_073).fill(97) }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLargeException);
    expect((err as PayloadTooLargeException).$metadata.httpStatusCode).toBe(413);
    c.ws.close();
  });

  it('answers LimitExceededException (429) once a client that does not read has a full buffer', async () => {
    const { c, id } = await open();
    const noRetry = new ApiGatewayManagementApiClient({
      endpoint: rt.managementEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
      maxAttempts: 1,
    });
    // The client stops reading: its kernel buffers fill, then the emulator's send queue grows.
    (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const chunk = new Uint8Array(120 * 1024).fill(98);
    let err: unknown;
    for (let i = 0; i < 2_000 && !err; i += 1) {
      err = await noRetry.send(new PostToConnectionCommand({ ConnectionId: id, Data: chunk })).then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    expect(err).toBeInstanceOf(LimitExceededException);
    expect((err as LimitExceededException).$metadata.httpStatusCode).toBe(429);
    noRetry.destroy();
    c.ws.terminate();
  });

  it('works from inside a handler, with the endpoint from WS_MANAGEMENT_ENDPOINT', async () => {
    const { c } = await open();
    c.ws.send(JSON.stringify({ push: 'from-handler', noBody: true }));
    expect(JSON.parse(await c.nextFrame())).toEqual({ pushed: 'from-handler' });
    c.ws.close();
  });
});

describe('When the backend reads or deletes a connection', () => {
  it('GetConnection returns connectedAt, lastActiveAt and the identity', async () => {
    const { c, id } = await open();
    c.ws.send('{"noBody":true}');
    // The frame moves lastActiveAt past connectedAt once the emulator has read it.
    const out = await waitFor(
      async () => {
        const o = await sdk.send(new GetConnectionCommand({ ConnectionId: id }));
        return o.LastActiveAt && o.ConnectedAt && o.LastActiveAt > o.ConnectedAt ? o : undefined;
      },
      { timeoutMs: 5_000, what: 'lastActiveAt to move' },
    );
    expect(out.ConnectedAt).toBeInstanceOf(Date);
    expect(out.LastActiveAt).toBeInstanceOf(Date);
    expect(out.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'mgmt-test' });
    c.ws.close();
  });

  it('DeleteConnection answers 204, closes the socket with 1000 and sends $disconnect', async () => {
    const { c, id } = await open();
    const out = await sdk.send(new DeleteConnectionCommand({ ConnectionId: id }));
    expect(out.$metadata.httpStatusCode).toBe(204);
    expect((await c.closed).code).toBe(1000);
    const e = await waitFor(() => disconnects.find((d) => d.requestContext.connectionId === id), {
      timeoutMs: 5_000,
      what: '$disconnect',
    });
    expect(e.requestContext.disconnectStatusCode).toBe(1000);
    expect(e.requestContext.disconnectReason).toBe('Connection Closed Normally');
    const again = await sdk.send(new DeleteConnectionCommand({ ConnectionId: id })).catch((x: unknown) => x);
    expect(again).toBeInstanceOf(GoneException);
  });

  it('GetConnection of an unknown id is GoneException', async () => {
    const err = await sdk
      .send(new GetConnectionCommand({ ConnectionId: 'BBBBBBBBBBBBBBB=' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GoneException);
  });
});

describe('When a request is not a well-formed management call', () => {
  it('refuses an unsigned request with 403', async () => {
    const res = await fetch(
      `${rt.managementEndpoint}/@connections/${encodeURIComponent('AAAAAAAAAAAAAAA=')}`,
      {
        method: 'POST',
        body: 'x',
      },
    );
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
  });

  it('answers ForbiddenException (403) for a path that is not /@connections/{id}', async () => {
    const bad = new ApiGatewayManagementApiClient({
      endpoint: `${rt.managementEndpoint}/some/deep/base`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
    });
    const err = await bad.send(new GetConnectionCommand({ ConnectionId: 'x' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForbiddenException);
    bad.destroy();
  });

  it("verifies SigV4 for the functions' own credentials: the SDK's signature passes, a wrong secret is refused", async () => {
    const { c, id } = await open();
    const region = 'us-east-1';
    const good = new ApiGatewayManagementApiClient({
      endpoint: `${rt.managementEndpoint}/local`,
      region,
      credentials: FUNCTION_CREDENTIALS,
    });
    // The id has `=` and `+`-free base64 here; the path is encoded once by the SDK and again by the signer.
    await good.send(
      new PostToConnectionCommand({ ConnectionId: id, Data: new TextEncoder().encode('signed') }),
    );
    expect(await c.nextFrame()).toBe('signed');
    await good.send(new GetConnectionCommand({ ConnectionId: id }));
    const forged = new ApiGatewayManagementApiClient({
      endpoint: rt.managementEndpoint,
      region,
      credentials: { accessKeyId: FUNCTION_CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' },
    });
    const err = (await forged
      .send(new PostToConnectionCommand({ ConnectionId: id, Data: new TextEncoder().encode('forged') }))
      .catch((e: unknown) => e)) as { name?: string; $metadata?: { httpStatusCode?: number } };
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(err.name).toBe('InvalidSignatureException');
    const wrongRegion = new ApiGatewayManagementApiClient({
      endpoint: rt.managementEndpoint,
      region: 'eu-west-3',
      credentials: FUNCTION_CREDENTIALS,
    });
    const err2 = (await wrongRegion
      .send(new DeleteConnectionCommand({ ConnectionId: id }))
      .catch((e: unknown) => e)) as { name?: string };
    expect(err2.name).toBe('InvalidSignatureException');
    // Nothing forged reached the socket, and it is still open.
    await good.send(
      new PostToConnectionCommand({ ConnectionId: id, Data: new TextEncoder().encode('after') }),
    );
    expect(await c.nextFrame()).toBe('after');
    for (const client of [good, forged, wrongRegion]) client.destroy();
    c.ws.close();
  });

  it('accepts an endpoint with a stage path, as the stage callback URL has', async () => {
    const { c, id } = await open();
    const staged = new ApiGatewayManagementApiClient({
      endpoint: `${rt.managementEndpoint}/local`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
    });
    await staged.send(
      new PostToConnectionCommand({ ConnectionId: id, Data: new TextEncoder().encode('staged') }),
    );
    expect(await c.nextFrame()).toBe('staged');
    staged.destroy();
    c.ws.close();
  });
});
