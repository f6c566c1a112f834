import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import { type AccessClaims, verifyAccessToken } from '#adapters/auth/jwt.ts';
import { enforce } from '#adapters/auth/rate-limit.ts';
import { requireActiveSession } from '#adapters/auth/sessions.ts';
import { isOutage } from '#adapters/outage.ts';
import { type ErrorCode, errorCodes } from '#contracts/errors.ts';
import { limits } from '#contracts/limits.ts';
import { type FunctionName, httpRouteKey, httpRoutes } from '#contracts/routes.ts';
import { ChatError, isChatError } from '#core/errors.ts';
import { beginInvocation, type LambdaContextLike } from '#platform/invocation.ts';
import { logger } from '#platform/log.ts';

/**
 * The HTTP API handler wrapper (API Gateway HTTP API, payload format 2.0). One Lambda serves several routes;
 * the wrapper routes by `event.routeKey` and, per route, in this order:
 *
 * 1. body size (over `limits.httpBodyMaxBytes` ⇒ 413 `payload_too_large`);
 * 2. auth, when the route table says so: `Authorization: Bearer <JWT>` checked by THE verification function
 *    (`verifyAccessToken`) ⇒ 401 `unauthorized`; then, at once, its session still active (adapters/auth/sessions.ts,
 *    cached ≤ 30 s) ⇒ 401, and the caller's request budget (`httpPerUser`, every authenticated route, whatever
 *    function serves it) ⇒ 429 `too_many_requests` with `Retry-After`;
 * 3. JSON body (⇒ 400 `invalid_json_body`), then the zod schemas of body and query string
 *    (⇒ 400 `validation_failed`, with `error.details: [{ path, message }]`);
 * 4. the route's handler; a `ChatError` becomes `{ error: { code, message } }` with its status, a backing
 *    service outage 503 `unavailable`, anything else 500 `internal` (logged with its stack, never shown).
 *
 * CORS headers are the API's job (API Gateway's CORS configuration; the local emulator does the same).
 */

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResponse = APIGatewayProxyStructuredResultV2;

export interface HttpResult {
  status: number;
  /** Serialized as JSON; omitted for 204. */
  body?: unknown;
}

export const ok = (body: unknown): HttpResult => ({ status: 200, body });
export const created = (body: unknown): HttpResult => ({ status: 201, body });
export const noContent = (): HttpResult => ({ status: 204 });

type Schema = z.ZodType;
type Out<S> = S extends Schema ? z.output<S> : undefined;

export interface HttpRequest<Auth extends boolean, Body, Query> {
  event: HttpEvent;
  body: Body;
  query: Query;
  /** Path parameters (`{id}` ⇒ `params.id`). */
  params: Readonly<Record<string, string>>;
  /** The caller, on authenticated routes. */
  auth: Auth extends true ? AccessClaims : null;
  /** The caller's user id on authenticated routes. */
  userId: Auth extends true ? string : null;
  sourceIp: string;
}

export interface RouteSpec<Auth extends boolean, B extends Schema | undefined, Q extends Schema | undefined> {
  /** Must equal the route table's `auth` for this route (checked when the router is built). */
  auth: Auth;
  body?: B;
  query?: Q;
  handle(req: HttpRequest<Auth, Out<B>, Out<Q>>): Promise<HttpResult>;
}

// biome-ignore lint/suspicious/noExplicitAny: the router stores routes of every shape
type AnyRoute = RouteSpec<boolean, any, any>;

/** Declare a route (keeps the body, query and auth types of the handler). */
export const route = <
  Auth extends boolean,
  B extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
>(
  spec: RouteSpec<Auth, B, Q>,
): AnyRoute => spec as AnyRoute;

/** Route keys the route table gives to one function. */
export type RouteKeyOf<F extends FunctionName> =
  Extract<(typeof httpRoutes)[number], { fn: F }> extends infer R
    ? R extends { method: infer M extends string; path: infer P extends string }
      ? `${M} ${P}`
      : never
    : never;

const json = (status: number, body: unknown): HttpResponse => ({
  statusCode: status,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

export const errorResponse = (
  code: ErrorCode,
  message?: string,
  details?: unknown,
  retryAfterSeconds?: number,
): HttpResponse => {
  const res = json(errorCodes[code].status, {
    error: { code, message: message ?? errorCodes[code].message, ...(details ? { details } : {}) },
  });
  if (retryAfterSeconds !== undefined)
    res.headers = { ...res.headers, 'retry-after': String(retryAfterSeconds) };
  return res;
};

function toResponse(result: HttpResult): HttpResponse {
  if (result.status === 204 || result.body === undefined) return { statusCode: result.status, headers: {} };
  return json(result.status, result.body);
}

function validationError(error: z.ZodError, where: 'body' | 'query'): ChatError & { details?: unknown } {
  const details = error.issues.slice(0, 20).map((i) => ({
    path: [where, ...i.path.map(String)].join('.'),
    message: i.message,
  }));
  const first = details[0];
  const err = new ChatError('validation_failed', first ? `${first.path}: ${first.message}` : undefined);
  return Object.assign(err, { details });
}

function bearerToken(event: HttpEvent): string | null {
  const header = event.headers?.authorization ?? event.headers?.Authorization;
  if (!header) return null;
  const match = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

function rawBody(event: HttpEvent): string {
  if (event.body === undefined || event.body === null) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

function bodySize(event: HttpEvent): number {
  if (!event.body) return 0;
  return event.isBase64Encoded
    ? Buffer.from(event.body, 'base64').length
    : Buffer.byteLength(event.body, 'utf8');
}

async function run(spec: AnyRoute, event: HttpEvent): Promise<HttpResponse> {
  if (bodySize(event) > limits.httpBodyMaxBytes) throw new ChatError('payload_too_large');

  let auth: AccessClaims | null = null;
  if (spec.auth) {
    const token = bearerToken(event);
    if (!token) throw new ChatError('unauthorized');
    auth = await verifyAccessToken(token);
    logger.appendKeys({ userId: auth.userId });
    await Promise.all([requireActiveSession(auth.sessionId), enforce('httpPerUser', auth.userId)]);
  }

  let body: unknown;
  if (spec.body) {
    const raw = rawBody(event).trim();
    let parsed: unknown = {};
    if (raw !== '') {
      try {
        parsed = JSON.parse(raw);
      } catch {
        throw new ChatError('invalid_json_body');
      }
    }
    const res = spec.body.safeParse(parsed);
    if (!res.success) throw validationError(res.error, 'body');
    body = res.data;
  }

  let query: unknown;
  if (spec.query) {
    const res = spec.query.safeParse(event.queryStringParameters ?? {});
    if (!res.success) throw validationError(res.error, 'query');
    query = res.data;
  }

  const result = await spec.handle({
    event,
    body,
    query,
    params: (event.pathParameters ?? {}) as Record<string, string>,
    auth,
    userId: auth?.userId ?? null,
    sourceIp: event.requestContext?.http?.sourceIp ?? 'unknown',
  });
  return toResponse(result);
}

/**
 * The handler of one HTTP function: `routes` must cover exactly the route keys the route table gives `fn`,
 * with the same `auth` flags (checked here, at cold start).
 */
export function httpRouter<F extends FunctionName>(
  fn: F,
  routes: { [K in RouteKeyOf<F>]: AnyRoute },
): (event: HttpEvent, context?: LambdaContextLike) => Promise<HttpResponse> {
  const table = httpRoutes.filter((r) => r.fn === fn);
  const byKey = new Map<string, AnyRoute>(Object.entries(routes));
  for (const r of table) {
    const spec = byKey.get(httpRouteKey(r));
    if (!spec) throw new Error(`${fn}: no handler for ${httpRouteKey(r)}`);
    if (spec.auth !== r.auth) throw new Error(`${fn}: ${httpRouteKey(r)} auth must be ${r.auth}`);
  }
  if (byKey.size !== table.length) throw new Error(`${fn}: routes not in the route table`);

  return async (event, context) => {
    beginInvocation(context);
    logger.appendKeys({ routeKey: event.routeKey, requestId: event.requestContext?.requestId });
    try {
      const spec = byKey.get(event.routeKey);
      if (!spec) return errorResponse('route_not_found');
      return await run(spec, event);
    } catch (e) {
      if (isChatError(e)) {
        if (e.status >= 500) logger.error('request failed', { code: e.code, error: e });
        return errorResponse(e.code, e.message, (e as { details?: unknown }).details, e.retryAfterSeconds);
      }
      if (isOutage(e)) {
        logger.error('backing service unavailable', { error: e as Error });
        return errorResponse('unavailable');
      }
      logger.error('unhandled error', { error: e as Error });
      return errorResponse('internal');
    } finally {
      logger.resetKeys();
    }
  };
}
