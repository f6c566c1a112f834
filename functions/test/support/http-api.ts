import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type FunctionName, httpRouteKey, httpRoutes } from '#contracts/routes.ts';

/**
 * A tiny HTTP API client for the tests, over one of two transports with the same answers:
 * - `httpApi(baseUrl)`: real HTTP against the local runtime (API Gateway emulator), the default;
 * - `inProcessApi()`: the handlers called in this process with payload-2.0 events built as API Gateway does.
 */

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read whatever came back
  body: any;
}

export interface CallOptions {
  /** JSON-serialized as the request body. */
  body?: unknown;
  /** Sent as is (wins over `body`). */
  rawBody?: string;
  token?: string;
  headers?: Record<string, string>;
}

export type Api = (method: string, path: string, options?: CallOptions) => Promise<ApiResponse>;

function requestHeaders(options: CallOptions): Record<string, string> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.body !== undefined || options.rawBody !== undefined)
    headers['content-type'] ??= 'application/json';
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  return headers;
}

const requestBody = (options: CallOptions): string | undefined =>
  options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));

export function httpApi(baseUrl: string): Api {
  return async (method, path, options = {}) => {
    const body = requestBody(options);
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: requestHeaders(options),
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON: leave the text
    }
    return { status: res.status, headers: Object.fromEntries(res.headers), body: parsed };
  };
}

/**
 * Real HTTP like `httpApi`, from a chosen loopback source address (`127.0.0.2`, `127.0.0.3`, … all reach the
 * runtime on 127.0.0.1 on Linux): the API Gateway emulator takes `sourceIp` from the socket, as API Gateway
 * does, so tests can be several clients on several IPs.
 */
export function httpApiFrom(baseUrl: string, localAddress: string): Api {
  return (method, path, options = {}) =>
    new Promise((resolve, reject) => {
      const body = requestBody(options);
      const req = request(
        `${baseUrl}${path}`,
        { method, headers: requestHeaders(options), localAddress, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text === '' ? null : JSON.parse(text);
            } catch {
              // not JSON: leave the text
            }
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
            resolve({ status: res.statusCode ?? 0, headers, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const handlerFiles: Partial<Record<FunctionName, () => Promise<{ handler: Handler }>>> = {
  httpAuth: () => import('#handlers/http/auth.ts'),
  httpConversations: () => import('#handlers/http/conversations.ts'),
  httpDirectory: () => import('#handlers/http/directory.ts'),
};

/** A payload format 2.0 event as API Gateway HTTP API builds it. */
export function httpEvent(
  method: string,
  path: string,
  options: CallOptions & { sourceIp?: string } = {},
): APIGatewayProxyEventV2 {
  const url = new URL(path, 'http://localhost');
  let routeKey = '$default';
  let pathParameters: Record<string, string> | undefined;
  for (const r of httpRoutes) {
    if (r.method !== method) continue;
    const names: string[] = [];
    const re = new RegExp(
      `^${r.path.replace(/\{(\w+)\}/g, (_, n: string) => {
        names.push(n);
        return '([^/]+)';
      })}$`,
    );
    const m = re.exec(url.pathname);
    if (!m) continue;
    routeKey = httpRouteKey(r);
    if (names.length > 0) {
      pathParameters = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1] ?? '')]));
    }
    break;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const headers = Object.fromEntries(
    Object.entries(requestHeaders(options)).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const body = requestBody(options);
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(pathParameters ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: options.sourceIp ?? '127.0.0.1',
        userAgent: 'vitest',
      },
      requestId: randomBytes(8).toString('hex'),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: false,
  };
}

/** The handlers in this process (for tests that need to choose the source IP, or before the emulator). */
export function inProcessApi(sourceIp?: string): Api {
  return async (method, path, options = {}) => {
    const event = httpEvent(method, path, { ...options, ...(sourceIp ? { sourceIp } : {}) });
    const route = httpRoutes.find((r) => httpRouteKey(r) === event.routeKey);
    if (!route) {
      return {
        status: 404,
        headers: {},
        body: { error: { code: 'route_not_found', message: 'No such route.' } },
      };
    }
    const load = handlerFiles[route.fn];
    if (!load) throw new Error(`no handler for ${route.fn}`);
    const { handler } = await load();
    const res = await handler(event);
    const text = res.body ?? '';
    return {
      status: res.statusCode ?? 200,
      headers: (res.headers ?? {}) as Record<string, string>,
      body: text === '' ? null : JSON.parse(text),
    };
  };
}
