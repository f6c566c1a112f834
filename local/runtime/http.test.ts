/**
 * The HTTP API emulator over real HTTP: payload format 2.0 events, route matching, 2.0 response mapping,
 * CORS as the API's own configuration, and the answers API Gateway gives itself (404, 413, 500).
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from './index.ts';
import { fixture } from './test-helpers.ts';

let rt: LocalRuntime;
const ORIGIN = 'http://localhost:3000';

beforeAll(async () => {
  rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    log: 'silent',
    kafka: false,
    schedules: false,
    functions: [],
    functionOverrides: { echo: fixture('http-echo.ts') },
    env: { WEB_ORIGIN: ORIGIN },
    limits: { httpBodyMaxBytes: 1024 * 1024 },
    routeTable: {
      functionDefs: {},
      wsRoutes: [],
      httpRoutes: [
        { method: 'GET', path: '/items/{id}', fn: 'echo' },
        { method: 'GET', path: '/items/special', fn: 'echo' },
        { method: 'POST', path: '/items', fn: 'echo' },
        { method: 'GET', path: '/files/{path+}', fn: 'echo' },
        { method: 'GET', path: '/r', fn: 'echo' },
      ],
      kafkaConsumers: [],
      schedules: [],
    },
  });
});
afterAll(() => rt?.stop());

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http, so repeated headers and cookies go out exactly as written. */
const raw = (
  method: string,
  path: string,
  headers: Array<[string, string]> = [],
  body?: Buffer | string,
): Promise<Raw> =>
  new Promise((resolve, reject) => {
    const url = new URL(rt.httpUrl);
    // A raw header list: node sends repeated headers as given, but then adds no Host of its own.
    const flat: string[] = [['Host', url.host] as [string, string], ...headers].flat();
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: flat as unknown as Record<string, string>,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });

describe('When a request matches a route', () => {
  it('builds a payload format 2.0 event', async () => {
    const res = await raw('GET', '/items/abc%20x?b=1&b=2&c=%C3%A9', [
      ['User-Agent', 'http-test/2'],
      ['X-Multi', 'one'],
      ['X-Multi', 'two'],
      ['Cookie', 'a=1; b=2'],
    ]);
    expect(res.status).toBe(200);
    const e = JSON.parse(res.body);
    expect(e).toMatchObject({
      version: '2.0',
      routeKey: 'GET /items/{id}',
      rawPath: '/items/abc%20x',
      rawQueryString: 'b=1&b=2&c=%C3%A9',
      cookies: ['a=1', 'b=2'],
      queryStringParameters: { b: '1,2', c: 'é' },
      pathParameters: { id: 'abc x' },
      isBase64Encoded: false,
    });
    expect(e.headers['x-multi']).toBe('one,two');
    expect(e.headers['user-agent']).toBe('http-test/2');
    expect(e.headers.cookie).toBeUndefined();
    expect(Object.keys(e.headers).every((k: string) => k === k.toLowerCase())).toBe(true);
    expect(e.body).toBeUndefined();
    expect(e.requestContext).toMatchObject({
      accountId: '123456789012',
      http: {
        method: 'GET',
        path: '/items/abc%20x',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'http-test/2',
      },
      routeKey: 'GET /items/{id}',
      stage: '$default',
    });
    expect(e.requestContext.requestId).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    expect(e.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(res.headers['apigw-requestid']).toBe(e.requestContext.requestId);
  });

  it('leaves out queryStringParameters, cookies and pathParameters when there are none', async () => {
    const e = JSON.parse((await raw('GET', '/r')).body);
    expect(e.rawQueryString).toBe('');
    expect('queryStringParameters' in e).toBe(false);
    expect('cookies' in e).toBe(false);
    expect('pathParameters' in e).toBe(false);
  });

  it('prefers a literal segment over a parameter, and matches greedy paths', async () => {
    expect(JSON.parse((await raw('GET', '/items/special')).body).routeKey).toBe('GET /items/special');
    const greedy = JSON.parse((await raw('GET', '/files/a/b/c.txt')).body);
    expect(greedy.routeKey).toBe('GET /files/{path+}');
    expect(greedy.pathParameters).toEqual({ path: 'a/b/c.txt' });
  });

  it('passes a JSON body as text and a binary body as base64', async () => {
    const json = JSON.parse(
      (await raw('POST', '/items', [['Content-Type', 'application/json']], '{"a":1}')).body,
    );
    expect(json.body).toBe('{"a":1}');
    expect(json.isBase64Encoded).toBe(false);
    const bin = JSON.parse(
      (
        await raw(
          'POST',
          '/items',
          [['Content-Type', 'application/octet-stream']],
          Buffer.from([0, 1, 2, 255]),
        )
      ).body,
    );
    expect(bin.isBase64Encoded).toBe(true);
    expect(Buffer.from(bin.body, 'base64')).toEqual(Buffer.from([0, 1, 2, 255]));
  });
});

describe('When the function answers', () => {
  it('maps a full response: status, headers, cookies as set-cookie', async () => {
    const res = await raw('GET', '/r?mode=cookies');
    expect(res.status).toBe(201);
    expect(res.headers['x-extra']).toBe('y');
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
  });

  it('treats JSON without statusCode as a 200 application/json body', async () => {
    const plain = await raw('GET', '/r?mode=plain');
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('application/json');
    expect(JSON.parse(plain.body)).toEqual({ hello: 'world' });
    const str = await raw('GET', '/r?mode=string');
    expect(str.status).toBe(200);
    expect(str.body).toBe('just text');
  });

  it('decodes a base64 body', async () => {
    expect((await raw('GET', '/r?mode=base64')).body).toBe('binary!');
  });

  it('passes the protocol error shape through untouched', async () => {
    const res = await raw('GET', '/r?mode=error');
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'not_found', message: 'no such thing' } });
  });

  it('answers 500 Internal Server Error when the function throws or returns a malformed response', async () => {
    for (const mode of ['throw', 'malformed']) {
      const res = await raw('GET', `/r?mode=${mode}`);
      expect(res.status).toBe(500);
      expect(JSON.parse(res.body)).toEqual({ message: 'Internal Server Error' });
    }
  });
});

describe('When API Gateway answers by itself', () => {
  it('answers 404 {"message":"Not Found"} for an unknown path or method', async () => {
    for (const [m, p] of [
      ['GET', '/nope'],
      ['DELETE', '/items'],
      ['GET', '/items'],
    ] as const) {
      const res = await raw(m, p);
      expect(res.status).toBe(404);
      expect(JSON.parse(res.body)).toEqual({ message: 'Not Found' });
    }
  });

  it('sends unmatched requests to a $default route when the table has one', async () => {
    const withDefault = await startLocalRuntime({
      wsPort: 0,
      httpPort: 0,
      log: 'silent',
      kafka: false,
      schedules: false,
      functions: [],
      functionOverrides: { echo: fixture('http-echo.ts') },
      routeTable: {
        functionDefs: {},
        wsRoutes: [],
        httpRoutes: [{ method: 'GET', path: '$default', fn: 'echo' }],
        kafkaConsumers: [],
        schedules: [],
      },
    });
    try {
      const res = await fetch(`${withDefault.httpUrl}/anything/here?mode=error`, { method: 'DELETE' });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no such thing' } });
      const e = (await (await fetch(`${withDefault.httpUrl}/x`)).json()) as {
        routeKey: string;
        requestContext: { routeKey: string };
      };
      expect(e.routeKey).toBe('$default');
      expect(e.requestContext.routeKey).toBe('$default');
    } finally {
      await withDefault.stop();
    }
  });

  it('answers 413 for a body over the payload limit', async () => {
    const res = await raw(
      'POST',
      '/items',
      [['Content-Type', 'application/json']],
      'x'.repeat(1024 * 1024 + 1),
    );
    expect(res.status).toBe(413);
  });
});

describe('When a browser calls from the web origin (CORS)', () => {
  it('answers the preflight itself, with the configured CORS headers', async () => {
    const res = await raw('OPTIONS', '/items', [
      ['Origin', ORIGIN],
      ['Access-Control-Request-Method', 'POST'],
      ['Access-Control-Request-Headers', 'content-type,authorization'],
    ]);
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(String(res.headers['access-control-allow-methods']).split(',')).toContain('POST');
    expect(String(res.headers['access-control-allow-headers']).split(',').sort()).toEqual([
      'authorization',
      'content-type',
    ]);
    expect(res.headers['access-control-max-age']).toBe('3600');
  });

  it('gives no CORS headers to another origin', async () => {
    const res = await raw('OPTIONS', '/items', [
      ['Origin', 'http://evil.example'],
      ['Access-Control-Request-Method', 'POST'],
    ]);
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sets allow-origin on actual responses and overrides the function own CORS headers', async () => {
    const res = await raw('GET', '/r?mode=cors', [['Origin', ORIGIN]]);
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    const other = await raw('GET', '/r?mode=cors', [['Origin', 'http://evil.example']]);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
