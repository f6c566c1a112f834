/**
 * The lean management API client against the AWS SDK it replaces: for the same request, credentials and
 * clock, it must send the same method, path, signed headers and signature as
 * `@aws-sdk/client-apigatewaymanagementapi` (captured before it reaches the network). Then over a real
 * socket: status codes map to the SDK's error names, a stale keep-alive socket is retried once.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManagementApiClient, ManagementApiError, signRequest } from './management-api.ts';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session/token+with=odd chars',
};
const when = new Date('2026-11-27T10:11:12.345Z');

interface Captured {
  method: string;
  path: string;
  headers: Record<string, string>;
}

async function sdkRequest(
  endpoint: string,
  command: PostToConnectionCommand | DeleteConnectionCommand,
  creds: typeof credentials | Omit<typeof credentials, 'sessionToken'>,
): Promise<Captured> {
  let captured: Captured | undefined;
  const client = new ApiGatewayManagementApiClient({
    endpoint,
    region: 'eu-west-1',
    credentials: creds,
    systemClockOffset: when.getTime() - Date.now(),
    requestHandler: {
      handle: async (req: {
        method: string;
        path: string;
        headers: Record<string, string>;
      }): Promise<{ response: unknown }> => {
        captured = { method: req.method, path: req.path, headers: { ...req.headers } };
        return {
          response: { statusCode: 200, headers: {}, body: Readable.from([]) },
        };
      },
    } as never,
  });
  await client.send(command as never);
  client.destroy();
  if (!captured) throw new Error('the SDK sent nothing');
  return captured;
}

const lower = (h: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

/** Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. */
const parts = (auth: string) =>
  Object.fromEntries(
    auth
      .replace(/^\S+ /, '')
      .split(', ')
      .map((p) => p.split('=')),
  );

describe('signRequest matches the AWS SDK', () => {
  const cases = [
    {
      endpoint: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod',
      id: 'L0SM9cOFvHcCIhw=',
      token: true,
    },
    { endpoint: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/', id: 'a+b/c=d', token: false },
    { endpoint: 'http://127.0.0.1:8080', id: "x!'()*~_-.", token: true },
  ];
  for (const c of cases) {
    it(`POST ${c.endpoint} ${c.id} (session token: ${c.token})`, async () => {
      const data = Buffer.from(JSON.stringify({ type: 'message', body: 'héllo ✓' }));
      const creds = c.token
        ? credentials
        : { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey };
      const sdk = await sdkRequest(
        c.endpoint,
        new PostToConnectionCommand({ ConnectionId: c.id, Data: data }),
        creds,
      );
      const sdkHeaders = lower(sdk.headers);
      const sdkAuth = parts(sdkHeaders.authorization ?? '');
      const signed = (sdkAuth.SignedHeaders ?? '').split(';');
      const url = new URL(c.endpoint);
      const ours = signRequest({
        method: 'POST',
        host: url.host,
        path: sdk.path,
        // exactly the SDK's signed headers (minus the ones the signer adds itself)
        headers: Object.fromEntries(
          signed
            .filter((n: string) => !['host', 'x-amz-date', 'x-amz-security-token'].includes(n))
            .map((n: string) => [n, sdkHeaders[n] as string]),
        ),
        body: data,
        region: 'eu-west-1',
        credentials: creds,
        date: when,
      });
      expect(sdk.method).toBe('POST');
      expect(ours['x-amz-date']).toBe(sdkHeaders['x-amz-date']);
      expect(parts(ours.authorization ?? '')).toEqual(sdkAuth);
    });
  }

  it('the path our client builds is the SDK path', async () => {
    const calls: IncomingMessage[] = [];
    const server = createServer((req, res) => {
      calls.push(req);
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const endpoint = `http://127.0.0.1:${port}/stage`;
      const id = 'L0SM9cOFvHcCIhw=';
      const sdk = await sdkRequest(endpoint, new DeleteConnectionCommand({ ConnectionId: id }), credentials);
      const client = new ManagementApiClient({
        endpoint,
        region: 'eu-west-1',
        credentials: async () => credentials,
      });
      await client.deleteConnection(id);
      client.destroy();
      expect(calls[0]?.url).toBe(sdk.path);
      expect(calls[0]?.method).toBe('DELETE');
    } finally {
      server.close();
    }
  });
});

describe('ManagementApiClient over a socket', () => {
  let server: Server;
  let endpoint: string;
  let respond: (
    req: IncomingMessage,
    body: Buffer,
  ) => { status: number; headers?: Record<string, string>; body?: string };
  const seen: { method: string; url: string; auth: string; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          auth: req.headers.authorization ?? '',
          body: body.toString(),
        });
        const r = respond(req, body);
        res.writeHead(r.status, r.headers ?? {}).end(r.body ?? '');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  afterEach(() => {
    seen.length = 0;
  });

  const client = () =>
    new ManagementApiClient({
      endpoint,
      region: 'us-east-1',
      credentials: async () => credentials,
      requestTimeoutMs: 1_000,
    });

  it('posts the bytes, signed', async () => {
    respond = () => ({ status: 200 });
    const c = client();
    await c.postToConnection('conn=1', Buffer.from('{"type":"pong"}'));
    c.destroy();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/@connections/conn%3D1', body: '{"type":"pong"}' });
    expect(seen[0]?.auth).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/execute-api\/aws4_request, /,
    );
  });

  it('410 is GoneException and is not retried', async () => {
    respond = () => ({ status: 410, headers: { 'x-amzn-ErrorType': 'GoneException' }, body: '{}' });
    const c = client();
    const e = await c.postToConnection('gone', Buffer.from('x')).catch((err: unknown) => err);
    c.destroy();
    expect(e).toBeInstanceOf(ManagementApiError);
    expect((e as ManagementApiError).name).toBe('GoneException');
    expect((e as ManagementApiError).$metadata.httpStatusCode).toBe(410);
    expect(seen).toHaveLength(1);
  });

  it('429 and 5xx are reported with their status after one attempt (retrying is the push policy job)', async () => {
    respond = () => ({ status: 429, body: '{"message":"Rate exceeded"}' });
    const c = client();
    const e = (await c
      .postToConnection('slow', Buffer.from('x'))
      .catch((err: unknown) => err)) as ManagementApiError;
    expect(e.name).toBe('LimitExceededException');
    expect(e.message).toBe('Rate exceeded');
    expect(seen).toHaveLength(1);
    respond = () => ({ status: 503 });
    const e5 = (await c
      .postToConnection('flaky', Buffer.from('x'))
      .catch((err: unknown) => err)) as ManagementApiError;
    c.destroy();
    expect(e5.$metadata.httpStatusCode).toBe(503);
    expect(seen).toHaveLength(2);
  });

  it('a server that never answers times out after one attempt (no hang); an abort ends a call at once', async () => {
    respond = () => ({ status: 200 });
    let requests = 0;
    const silent = createServer(() => {
      requests++;
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const c = new ManagementApiClient({
      endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      region: 'us-east-1',
      credentials: async () => credentials,
      requestTimeoutMs: 200,
    });
    const e = (await c
      .postToConnection('x', Buffer.from('x'))
      .catch((err: unknown) => err)) as ManagementApiError;
    expect(e).toBeInstanceOf(ManagementApiError);
    expect(e.code).toBe('ETIMEDOUT');
    expect(requests).toBe(1);
    const aborted = (await c
      .postToConnection('y', Buffer.from('y'), { signal: AbortSignal.abort() })
      .catch((err: unknown) => err)) as ManagementApiError;
    c.destroy();
    silent.closeAllConnections();
    silent.close();
    expect(aborted).toBeInstanceOf(ManagementApiError);
    expect(aborted.name).toBe('AbortError');
  });

  it('a request queued behind busy sockets is not timed out before it is sent', async () => {
    const slow = createServer((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => res.writeHead(200).end(), 120));
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const c = new ManagementApiClient({
      endpoint: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`,
      region: 'us-east-1',
      credentials: async () => credentials,
      maxSockets: 2,
      requestTimeoutMs: 400,
    });
    // 8 pushes over 2 sockets take ≈ 4 × 120 ms: the last ones wait longer than the request limit in the queue.
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => c.postToConnection(`c${i}`, Buffer.from('x'))),
    );
    c.destroy();
    slow.closeAllConnections();
    slow.close();
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
  });

  it('a refused connection is an error, not a crash', async () => {
    const c = new ManagementApiClient({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      credentials: async () => credentials,
    });
    const e = (await c.deleteConnection('x').catch((err: unknown) => err)) as ManagementApiError;
    c.destroy();
    expect(e).toBeInstanceOf(ManagementApiError);
    expect(e.code).toBe('ECONNREFUSED');
  });
});
