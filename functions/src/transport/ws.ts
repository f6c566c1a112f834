import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import type { z } from 'zod';
import { isOutage } from '#adapters/outage.ts';
import { type ErrorCode, errorCodes } from '#contracts/errors.ts';
import { limits } from '#contracts/limits.ts';
import type { ErrorEvent, ServerEvent } from '#contracts/ws.ts';
import { ChatError, isChatError } from '#core/errors.ts';
import { beginInvocation, type LambdaContextLike } from '#platform/invocation.ts';
import { logger } from '#platform/log.ts';

/**
 * The one WebSocket message-route wrapper (every route but `$connect`/`$disconnect`). Per frame:
 * 1. ONE Redis round trip (`admitFrame`, a script on the connection's hash tag): the connection's owner, the
 *    frame counted against the per-connection rate (`limits.wsFramesPerSecond`), and whether presence is due
 *    for a refresh (at most every few seconds per connection, not every frame: docs/adr/0007-send-path.md). An
 *    unknown or lapsed connection gets `unauthorized` (the client reconnects with a new ticket). Only Redis is
 *    used here, so routes that need nothing else (ping, $default) need no other permission (route table `uses`);
 * 2. when due, the presence refresh starts beside the route (not before it) and is awaited before the response,
 *    so it costs the route no round trip; a refresh that finds the connection lapsed closes it as in 1;
 * 3. over the frame rate ⇒ `rate_limited`; JSON ⇒ `invalid_json`; the route's zod schema ⇒ `invalid_frame`
 *    naming the field;
 * 4. the route's core call (with `receivedAt`, when the frame reached the function); its event (ack, pong, …) is
 *    the route response (`returnResponse: true` routes).
 * Errors become `error` frames: a ChatError its own code, a backing-service outage `unavailable` (so a send
 * is never acked when it was not published), anything else `internal` (logged with its stack, never shown).
 * Logs carry connectionId/routeKey/requestId; never tokens, tickets or message bodies.
 */

/**
 * What the wrapper needs from the world, per frame (a port, as the core's are: `adapters/ws-connections.ts`
 * wires it to Redis and the management API, unit tests to fakes).
 */
export interface WsPorts {
  /**
   * One frame, in one round trip: the connection's owner, whether the frame is within `perSecond` (counted in
   * the connection's window), and whether this frame is to refresh presence. null when unknown or lapsed.
   */
  admitFrame(connectionId: string, perSecond: number): Promise<FrameAdmission | null>;
  /** Refreshes the connection's presence (TTL, its user's set, the sweeper's list); false when it lapsed. */
  refreshPresence(connectionId: string, userId: string): Promise<boolean>;
  /** Pushes an event to connections (through the management API). */
  pushToConnections(connectionIds: readonly string[], event: ServerEvent): Promise<unknown>;
  /** Closes a connection from the server side (best effort). */
  closeConnection(connectionId: string): Promise<void>;
}

export interface FrameAdmission {
  readonly userId: string;
  readonly allowed: boolean;
  readonly refreshDue: boolean;
}

/** The WebSocket proxy event, with the fields real events carry and @types/aws-lambda omits. */
export type WsEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & {
    identity?: { sourceIp?: string; userAgent?: string };
    disconnectStatusCode?: number;
    disconnectReason?: string;
  };
  queryStringParameters?: Record<string, string | undefined> | null;
  headers?: Record<string, string | undefined>;
};

export interface WsResult {
  statusCode: number;
  body?: string;
}

export interface WsContext {
  readonly connectionId: string;
  readonly userId: string;
  readonly requestId: string;
  /** Epoch ms when the frame reached the function (before any I/O). */
  readonly receivedAt: number;
}

export const respond = (event: ServerEvent): WsResult => ({ statusCode: 200, body: JSON.stringify(event) });
export const noResponse = (): WsResult => ({ statusCode: 200 });

export function errorFrame(
  code: ErrorCode,
  message: string = errorCodes[code].message,
  extra: { action?: string | undefined; clientMsgId?: string | undefined } = {},
): ErrorEvent {
  return {
    type: 'error',
    code,
    message,
    ...(extra.action ? { action: extra.action } : {}),
    ...(extra.clientMsgId ? { clientMsgId: extra.clientMsgId } : {}),
  };
}

/** `conversationId: expected a string` — the first issue, with its field path. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return errorCodes.invalid_frame.message;
  const path = issue.path.map(String).join('.');
  const message = issue.code === 'invalid_type' && issue.input === undefined ? 'required' : issue.message;
  return path ? `${path}: ${message}` : message;
}

const stringField = (value: unknown, field: string): string | undefined => {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const v = (value as Record<string, unknown>)[field];
    if (typeof v === 'string') return v.slice(0, limits.clientMsgIdMax);
  }
  return undefined;
};

export function wsRoute<S extends z.ZodType>(
  ports: WsPorts,
  schema: S,
  run: (frame: z.infer<S>, ctx: WsContext) => Promise<ServerEvent | undefined>,
): (event: WsEvent, context?: LambdaContextLike) => Promise<WsResult> {
  return async (event, context) => {
    beginInvocation(context);
    const receivedAt = Date.now();
    const { connectionId, routeKey } = event.requestContext;
    const requestId = event.requestContext.requestId;
    logger.appendKeys({ connectionId, routeKey, requestId });
    const action = routeKey.startsWith('$') ? undefined : routeKey;
    let parsed: unknown;
    let refreshing: Promise<boolean> | undefined;
    try {
      let result: WsResult;
      // Parsed before anything can refuse it, so that every refusal (a rate limit, or `unavailable` when Redis
      // is down and the admission itself fails) names the send's clientMsgId and the client resends that one.
      const raw = event.isBase64Encoded
        ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
        : (event.body ?? '');
      let json = true;
      try {
        parsed = JSON.parse(raw);
      } catch {
        json = false;
      }
      try {
        const admission = await ports.admitFrame(connectionId, limits.wsFramesPerSecond);
        if (!admission) {
          // Only after a Redis loss or a lapsed registration (the idle timeout, 10 min, is shorter than the TTL,
          // 15 min). Nothing would ever be pushed to this socket again, so tell the client and close it: it
          // reconnects with a new ticket and fills the gap from history.
          logger.info('ws: frame from an unknown or lapsed connection; closing it');
          await refuse(ports, connectionId, action);
          return noResponse();
        }
        const { userId } = admission;
        logger.appendKeys({ userId });
        // Beside the route, not before it: its first round trip travels with the route's first one.
        if (admission.refreshDue) refreshing = refreshPresence(ports, connectionId, userId);
        if (!admission.allowed) throw new ChatError('rate_limited');
        if (!json) throw new ChatError('invalid_json');
        const frame = schema.safeParse(parsed);
        if (!frame.success) throw new ChatError('invalid_frame', describeIssue(frame.error));
        const response = await run(frame.data, { connectionId, userId, requestId, receivedAt });
        result = response ? respond(response) : noResponse();
      } catch (error) {
        const extra = {
          action: action ?? stringField(parsed, 'action'),
          clientMsgId: stringField(parsed, 'clientMsgId'),
        };
        if (isChatError(error)) result = respond(errorFrame(error.code, error.message, extra));
        else if (isOutage(error)) {
          logger.error('ws: backing service unavailable', { error });
          result = respond(errorFrame('unavailable', undefined, extra));
        } else {
          logger.error('ws: unexpected error', { error });
          result = respond(errorFrame('internal', undefined, extra));
        }
      }
      // Awaited before answering: a Lambda environment may be frozen once the handler returns.
      if (refreshing && !(await refreshing)) {
        // The user's set no longer holds the connection as live (the sweeper or a 410 removed it, or it
        // lapsed): as for an unknown connection, the client reconnects and fills the gap.
        logger.info('ws: the presence refresh found the connection lapsed; closing it');
        await refuse(ports, connectionId, action).catch((error: unknown) =>
          logger.warn('ws: closing a lapsed connection failed', { error }),
        );
        return noResponse();
      }
      return result;
    } finally {
      logger.resetKeys();
    }
  };
}

/** Tells a connection it is not registered (`unauthorized`), then closes it. */
async function refuse(ports: WsPorts, connectionId: string, action: string | undefined): Promise<void> {
  await ports.pushToConnections(
    [connectionId],
    errorFrame('unauthorized', 'This connection is not registered; reconnect.', { action }),
  );
  await ports.closeConnection(connectionId);
}

/** The presence refresh; a failure is logged, never the frame's (presence catches up at the next refresh). */
function refreshPresence(ports: WsPorts, connectionId: string, userId: string): Promise<boolean> {
  return ports.refreshPresence(connectionId, userId).catch((error: unknown) => {
    logger.warn('ws: presence refresh failed', { error });
    return true;
  });
}

/**
 * Wrapper for `$connect` and `$disconnect`: logger keys (never the query string: it holds the ticket), and a
 * failure becomes a status instead of a crash: 503 when a backing service is down, else 500 (logged).
 */
export function lifecycle(
  run: (event: WsEvent) => Promise<WsResult>,
): (event: WsEvent, context?: LambdaContextLike) => Promise<WsResult> {
  return async (event, context) => {
    beginInvocation(context);
    const { connectionId, routeKey, requestId } = event.requestContext;
    logger.appendKeys({ connectionId, routeKey, requestId });
    try {
      return await run(event);
    } catch (error) {
      const outage = isOutage(error);
      logger.error(outage ? 'ws: backing service unavailable' : 'ws: unexpected error', { error });
      return { statusCode: outage ? 503 : 500 };
    } finally {
      logger.resetKeys();
    }
  };
}
