/**
 * API Gateway HTTP API → Lambda, payload format version 2.0 (event) and the 2.0 response rules.
 */
import type { IncomingMessage } from 'node:http';
import { clfTime, traceId } from '../ids.ts';

export interface HttpApiIdentity {
  readonly apiId: string;
  readonly accountId: string;
}

export interface HttpRouteLike {
  readonly method: string;
  readonly path: string;
  readonly fn: string;
}

export interface CompiledRoute {
  readonly route: HttpRouteLike;
  readonly routeKey: string;
  readonly regex: RegExp;
  readonly params: readonly string[];
  /** Specificity per segment: 2 literal, 1 {param}, 0 {greedy+}. */
  readonly rank: readonly number[];
}

export const compileRoute = (route: HttpRouteLike): CompiledRoute => {
  const params: string[] = [];
  const rank: number[] = [];
  const parts = route.path.split('/').filter((s) => s !== '');
  const source = parts
    .map((seg) => {
      const greedy = /^\{([A-Za-z0-9_]+)\+\}$/.exec(seg);
      if (greedy?.[1]) {
        params.push(greedy[1]);
        rank.push(0);
        return '/(.+)';
      }
      const param = /^\{([A-Za-z0-9_]+)\}$/.exec(seg);
      if (param?.[1]) {
        params.push(param[1]);
        rank.push(1);
        return '/([^/]+)';
      }
      rank.push(2);
      return `/${seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
    })
    .join('');
  return {
    route,
    routeKey: `${route.method} ${route.path}`,
    regex: new RegExp(`^${source || '/'}$`),
    params,
    rank,
  };
};

/** The most specific route matching method and path (literal > {param} > {greedy+}, segment by segment). */
export const matchRoute = (
  routes: readonly CompiledRoute[],
  method: string,
  path: string,
): { route: CompiledRoute; pathParameters: Record<string, string> } | undefined => {
  let best: { route: CompiledRoute; pathParameters: Record<string, string> } | undefined;
  for (const r of routes) {
    if (r.route.method !== method && r.route.method !== 'ANY') continue;
    const m = r.regex.exec(path);
    if (!m) continue;
    const pathParameters: Record<string, string> = {};
    r.params.forEach((p, i) => {
      const raw = m[i + 1] ?? '';
      try {
        pathParameters[p] = decodeURIComponent(raw);
      } catch {
        pathParameters[p] = raw;
      }
    });
    if (!best || compareRank(r.rank, best.route.rank) > 0) best = { route: r, pathParameters };
  }
  return best;
};

const compareRank = (a: readonly number[], b: readonly number[]): number => {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
};

/** Content types HTTP API passes as text; any other body arrives base64-encoded (isBase64Encoded: true). */
export const isTextContentType = (contentType: string | undefined): boolean => {
  if (!contentType) return false;
  const t = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return (
    t.startsWith('text/') ||
    t === 'application/json' ||
    t.endsWith('+json') ||
    t === 'application/xml' ||
    t.endsWith('+xml') ||
    t === 'application/javascript'
  );
};

export interface HttpEventInput {
  readonly req: IncomingMessage;
  readonly routeKey: string;
  readonly pathParameters: Record<string, string> | undefined;
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly localPort: number;
  readonly requestId: string;
  readonly now: number;
}

export const httpEvent = (api: HttpApiIdentity, input: HttpEventInput): Record<string, unknown> => {
  const { req, body, now } = input;
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const rawPath = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  const rawQueryString = q >= 0 ? rawUrl.slice(q + 1) : '';

  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    const value = raw[i + 1] ?? '';
    if (name === 'cookie') {
      for (const c of value.split(';')) if (c.trim() !== '') cookies.push(c.trim());
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  headers['x-forwarded-for'] =
    headers['x-forwarded-for'] === undefined
      ? input.sourceIp
      : `${headers['x-forwarded-for']}, ${input.sourceIp}`;
  headers['x-forwarded-port'] = String(input.localPort);
  headers['x-forwarded-proto'] = 'http';
  headers['x-amzn-trace-id'] ??= traceId(now);

  const query: Record<string, string> = {};
  let anyQuery = false;
  for (const [k, v] of new URLSearchParams(rawQueryString)) {
    anyQuery = true;
    query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  }

  const host = (headers.host ?? 'localhost').replace(/:\d+$/, '');
  const isText = isTextContentType(headers['content-type']);
  const event: Record<string, unknown> = {
    version: '2.0',
    routeKey: input.routeKey,
    rawPath,
    rawQueryString,
  };
  if (cookies.length > 0) event.cookies = cookies;
  event.headers = headers;
  if (anyQuery) event.queryStringParameters = query;
  event.requestContext = {
    accountId: api.accountId,
    apiId: api.apiId,
    domainName: host,
    domainPrefix: host.split('.')[0] ?? host,
    http: {
      method: req.method ?? 'GET',
      path: rawPath,
      protocol: `HTTP/${req.httpVersion}`,
      sourceIp: input.sourceIp,
      userAgent: headers['user-agent'] ?? '',
    },
    requestId: input.requestId,
    routeKey: input.routeKey,
    stage: '$default',
    time: clfTime(now),
    timeEpoch: now,
  };
  if (body.length > 0) event.body = isText ? body.toString('utf8') : body.toString('base64');
  if (input.pathParameters && Object.keys(input.pathParameters).length > 0)
    event.pathParameters = input.pathParameters;
  event.isBase64Encoded = body.length > 0 && !isText;
  return event;
};

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly cookies: readonly string[];
  readonly body: Buffer;
}

/**
 * Payload format 2.0 response rules: an object with `statusCode` is a full response; anything else that is
 * valid JSON is the body of a 200 `application/json` response. A malformed full response is a 500.
 */
export const mapResult = (result: unknown): HttpResponse | undefined => {
  if (result !== null && typeof result === 'object' && !Array.isArray(result) && 'statusCode' in result) {
    const r = result as {
      statusCode: unknown;
      headers?: unknown;
      cookies?: unknown;
      body?: unknown;
      isBase64Encoded?: unknown;
    };
    const statusCode = Number(r.statusCode);
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) return undefined;
    if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') return undefined;
    const headers: Record<string, string> = {};
    if (r.headers !== undefined && r.headers !== null) {
      if (typeof r.headers !== 'object') return undefined;
      for (const [k, v] of Object.entries(r.headers as Record<string, unknown>)) {
        if (v !== undefined && v !== null) headers[k.toLowerCase()] = String(v);
      }
    }
    const cookies = Array.isArray(r.cookies) ? r.cookies.map(String) : [];
    const text = typeof r.body === 'string' ? r.body : '';
    const body = r.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
    return { statusCode, headers, cookies, body };
  }
  const text = typeof result === 'string' ? result : JSON.stringify(result);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(text ?? 'null', 'utf8'),
  };
};
