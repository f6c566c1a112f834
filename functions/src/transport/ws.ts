import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import type { z } from 'zod';
import { isOutage } from '#adapters/outage.ts';
import { type ErrorCode, errorCodes } from '#contracts/errors.ts';
import { limits } from '#contracts/limits.ts';
import type { ErrorEvent, ServerEvent } from '#contracts/ws.ts';
import { ChatError, isChatError } from '#core/errors.ts';
import { logger } from '#platform/log.ts';

/**
 * The one WebSocket message-route wrapper (every route but `$connect`/`$disconnect`). Per frame:
 * 1. the connection's owner from Redis, refreshing its TTL (any frame keeps presence alive); an unknown or
 *    lapsed connection gets `unauthorized` (the client reconnects with a new ticket). Only Redis is used
 *    here, so routes that need nothing else (ping, $default) need no other permission (route table `uses`);
 * 2. the per-connection frame rate (`limits.wsFramesPerSecond`) ⇒ `rate_limited`;
 * 3. JSON ⇒ `invalid_json`; the route's zod schema ⇒ `invalid_frame` naming the field;
 * 4. the route's core call; its event (ack, pong, …) is the route response (`returnResponse: true` routes).
 * Errors become `error` frames: a ChatError its own code, a backing-service outage `unavailable` (so a send
 * is never acked when it was not published), anything else `internal` (logged with its stack, never shown).
 * Logs carry connectionId/routeKey/requestId; never tokens, tickets or message bodies.
 */

/**
 * What the wrapper needs from the world, per frame (a port, as the core's are: `adapters/ws-connections.ts`
 * wires it to Redis and the management API, unit tests to fakes).
 */
export interface WsPorts {
  /** The connection's owner, refreshing its TTL; null when unknown or lapsed. */
  touchConnection(connectionId: string): Promise<string | null>;
  /** Counts a frame in the connection's window for `scope`; false when over `perSecond`. */
  withinRate(connectionId: string, scope: string, perSecond: number): Promise<boolean>;
  /** Pushes an event to connections (through the management API). */
  pushToConnections(connectionIds: readonly string[], event: ServerEvent): Promise<unknown>;
  /** Closes a connection from the server side (best effort). */
  closeConnection(connectionId: string): Promise<void>;
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
): (event: WsEvent) => Promise<WsResult> {
  return async (event) => {
    const { connectionId, routeKey } = event.requestContext;
    const requestId = event.requestContext.requestId;
    logger.appendKeys({ connectionId, routeKey, requestId });
    const action = routeKey.startsWith('$') ? undefined : routeKey;
    let parsed: unknown;
    try {
      const [userId, allowed] = await Promise.all([
        ports.touchConnection(connectionId),
        ports.withinRate(connectionId, 'frames', limits.wsFramesPerSecond),
      ]);
      if (!userId) {
        // Only after a Redis loss or a lapsed registration (the idle timeout, 10 min, is shorter than the TTL,
        // 15 min). Nothing would ever be pushed to this socket again, so tell the client and close it: it
        // reconnects with a new ticket and fills the gap from history.
        logger.info('ws: frame from an unknown or lapsed connection; closing it');
        await ports.pushToConnections(
          [connectionId],
          errorFrame('unauthorized', 'This connection is not registered; reconnect.', { action }),
        );
        await ports.closeConnection(connectionId);
        return noResponse();
      }
      logger.appendKeys({ userId });
      const raw = event.isBase64Encoded
        ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
        : (event.body ?? '');
      let json = true;
      try {
        parsed = JSON.parse(raw);
      } catch {
        json = false;
      }
      // Parsed before the rate check so that a refused send still names its clientMsgId.
      if (!allowed) throw new ChatError('rate_limited');
      if (!json) throw new ChatError('invalid_json');
      const frame = schema.safeParse(parsed);
      if (!frame.success) throw new ChatError('invalid_frame', describeIssue(frame.error));
      const result = await run(frame.data, { connectionId, userId, requestId });
      return result ? respond(result) : noResponse();
    } catch (error) {
      const extra = {
        action: action ?? stringField(parsed, 'action'),
        clientMsgId: stringField(parsed, 'clientMsgId'),
      };
      if (isChatError(error)) return respond(errorFrame(error.code, error.message, extra));
      if (isOutage(error)) {
        logger.error('ws: backing service unavailable', { error });
        return respond(errorFrame('unavailable', undefined, extra));
      }
      logger.error('ws: unexpected error', { error });
      return respond(errorFrame('internal', undefined, extra));
    } finally {
      logger.resetKeys();
    }
  };
}

/**
 * Wrapper for `$connect` and `$disconnect`: logger keys (never the query string: it holds the ticket), and a
 * failure becomes a status instead of a crash: 503 when a backing service is down, else 500 (logged).
 */
export function lifecycle(run: (event: WsEvent) => Promise<WsResult>): (event: WsEvent) => Promise<WsResult> {
  return async (event) => {
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
