/**
 * API Gateway WebSocket API → Lambda proxy events, field for field as AWS sends them (see
 * the captured events in ../fixtures). Field order follows the captured events.
 */
import type { IncomingMessage } from 'node:http';
import { clfTime, traceId } from '../ids.ts';

export interface WsApiIdentity {
  readonly apiId: string;
  readonly stage: string;
}

/** What the emulator knows about one connection. */
export interface ConnectionFacts {
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
  /** Host the client connected to (API Gateway: `{apiId}.execute-api.{region}.amazonaws.com`). */
  readonly domainName: string;
}

const identity = (c: ConnectionFacts): Record<string, string> =>
  c.userAgent === undefined ? { sourceIp: c.sourceIp } : { userAgent: c.userAgent, sourceIp: c.sourceIp };

const tail = (api: WsApiIdentity, c: ConnectionFacts, requestId: string) => ({
  requestId,
  domainName: c.domainName,
  connectionId: c.connectionId,
  apiId: api.apiId,
});

/** Hop-by-hop headers API Gateway does not forward to `$connect`. */
const DROPPED_HEADERS = new Set(['connection', 'upgrade']);

/** `headers` (last value wins) and `multiValueHeaders`, original header-name case, as API Gateway builds them. */
const connectHeaders = (
  req: IncomingMessage,
  c: ConnectionFacts,
  localPort: number,
): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> } => {
  const headers: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  const add = (name: string, value: string): void => {
    // Keep the first spelling of a header name, as sent.
    const existing = Object.keys(multi).find((k) => k.toLowerCase() === name.toLowerCase());
    const key = existing ?? name;
    headers[key] = value;
    multi[key] = [...(multi[key] ?? []), value];
  };
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (DROPPED_HEADERS.has(name.toLowerCase())) continue;
    if (/^x-forwarded-(for|port|proto)$/i.test(name) || /^x-amzn-trace-id$/i.test(name)) continue;
    add(name, raw[i + 1] ?? '');
  }
  // Added by API Gateway's front end.
  add('X-Amzn-Trace-Id', traceId(c.connectedAt));
  add('X-Forwarded-For', c.sourceIp);
  add('X-Forwarded-Port', String(localPort));
  add('X-Forwarded-Proto', 'http');
  return { headers, multiValueHeaders: multi };
};

/** `queryStringParameters` (last value wins) and `multiValueQueryStringParameters`; absent without a query. */
const connectQuery = (
  search: URLSearchParams,
):
  | {
      queryStringParameters: Record<string, string>;
      multiValueQueryStringParameters: Record<string, string[]>;
    }
  | undefined => {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  let any = false;
  for (const [k, v] of search) {
    any = true;
    single[k] = v;
    multi[k] = [...(multi[k] ?? []), v];
  }
  return any ? { queryStringParameters: single, multiValueQueryStringParameters: multi } : undefined;
};

export const connectEvent = (
  api: WsApiIdentity,
  c: ConnectionFacts,
  req: IncomingMessage,
  search: URLSearchParams,
  localPort: number,
  requestId: string,
  now: number,
): Record<string, unknown> => {
  const { headers, multiValueHeaders } = connectHeaders(req, c, localPort);
  return {
    headers,
    multiValueHeaders,
    ...connectQuery(search),
    requestContext: {
      routeKey: '$connect',
      eventType: 'CONNECT',
      extendedRequestId: requestId,
      requestTime: clfTime(now),
      messageDirection: 'IN',
      stage: api.stage,
      connectedAt: c.connectedAt,
      requestTimeEpoch: now,
      identity: identity(c),
      ...tail(api, c, requestId),
    },
    isBase64Encoded: false,
  };
};

export const messageEvent = (
  api: WsApiIdentity,
  c: ConnectionFacts,
  routeKey: string,
  body: string,
  messageId: string,
  requestId: string,
  now: number,
): Record<string, unknown> => ({
  requestContext: {
    routeKey,
    messageId,
    eventType: 'MESSAGE',
    extendedRequestId: requestId,
    requestTime: clfTime(now),
    messageDirection: 'IN',
    stage: api.stage,
    connectedAt: c.connectedAt,
    requestTimeEpoch: now,
    identity: identity(c),
    ...tail(api, c, requestId),
  },
  body,
  isBase64Encoded: false,
});

const q = JSON.stringify;

/**
 * `messageEvent` as the JSON text the function receives, built once per frame without the intermediate
 * object (same fields, same order: `JSON.parse(messageEventJson(…))` equals `messageEvent(…)`). The body, the
 * largest part, is escaped once.
 */
export const messageEventJson = (
  api: WsApiIdentity,
  c: ConnectionFacts,
  routeKey: string,
  body: string,
  messageId: string,
  requestId: string,
  now: number,
): string => {
  const id =
    c.userAgent === undefined
      ? `{"sourceIp":${q(c.sourceIp)}}`
      : `{"userAgent":${q(c.userAgent)},"sourceIp":${q(c.sourceIp)}}`;
  return `{"requestContext":{"routeKey":${q(routeKey)},"messageId":${q(messageId)},"eventType":"MESSAGE","extendedRequestId":${q(
    requestId,
  )},"requestTime":"${clfTime(now)}","messageDirection":"IN","stage":${q(api.stage)},"connectedAt":${c.connectedAt},"requestTimeEpoch":${now},"identity":${id},"requestId":${q(
    requestId,
  )},"domainName":${q(c.domainName)},"connectionId":${q(c.connectionId)},"apiId":${q(api.apiId)}},"body":${q(
    body,
  )},"isBase64Encoded":false}`;
};

export const disconnectEvent = (
  api: WsApiIdentity,
  c: ConnectionFacts,
  statusCode: number,
  reason: string,
  requestId: string,
  now: number,
): Record<string, unknown> => ({
  // API Gateway sends these four headers on $disconnect, empty but for Host (captured events).
  headers: { Host: c.domainName, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' },
  multiValueHeaders: { Host: [c.domainName], 'x-api-key': [''], 'X-Forwarded-For': [''], 'x-restapi': [''] },
  requestContext: {
    routeKey: '$disconnect',
    disconnectStatusCode: statusCode,
    eventType: 'DISCONNECT',
    extendedRequestId: requestId,
    requestTime: clfTime(now),
    messageDirection: 'IN',
    disconnectReason: reason,
    stage: api.stage,
    connectedAt: c.connectedAt,
    requestTimeEpoch: now,
    identity: identity(c),
    ...tail(api, c, requestId),
  },
  isBase64Encoded: false,
});

/**
 * Route selection on `$request.body.action`: the value stringified; a missing path ⇒ `""`; a body that is not
 * JSON ⇒ no key (goes to `$default`).
 */
/** The body field routes are selected on: the API's route selection expression is `$request.body.action`. */
const SELECTION_FIELD = 'action';
export const routeSelectionExpression = `$request.body.${SELECTION_FIELD}`;

export const selectionKey = (body: string): string | undefined => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return '';
  const v = (parsed as Record<string, unknown>)[SELECTION_FIELD];
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v);
  } catch {
    // Too deeply nested to stringify: it can match no route key, so the frame goes to `$default`.
    return undefined;
  }
};
