import { sessionActive } from '#adapters/auth/sessions.ts';
import { realtimePorts } from '#adapters/realtime.ts';
import { reserveConnection } from '#adapters/redis/connections.ts';
import { consumeTicket } from '#adapters/redis/tickets.ts';
import { connect } from '#core/presence.ts';
import { config } from '#platform/config.ts';
import { logger } from '#platform/log.ts';
import { lifecycle, type WsEvent, type WsResult } from '#transport/ws.ts';

/**
 * `$connect`: the one-time ticket (`?ticket=`, from POST /auth/ws-ticket) admits the socket; a missing, used,
 * expired or forged one, or one whose session was revoked since, refuses the upgrade with 401. A user already
 * at `connectionsPerUser` open connections is refused with 429. Records the connection (with its session, so a
 * logout closes it) and, for the user's first one, tells their contacts they are online.
 */
export const handler = lifecycle(async (event: WsEvent): Promise<WsResult> => {
  const owner = await consumeTicket(event.queryStringParameters?.ticket);
  if (!owner) return { statusCode: 401 };
  logger.appendKeys({ userId: owner.userId });
  if (owner.sessionId && !(await sessionActive(owner.sessionId, { fresh: true }))) return { statusCode: 401 };
  const { connectionId } = event.requestContext;
  const cap = config.connectionsPerUser();
  if (!(await reserveConnection(connectionId, owner.userId, owner.sessionId, cap))) {
    logger.info('ws: connection refused, the user is at the connection cap', { cap });
    return { statusCode: 429 };
  }
  await connect(realtimePorts, { connectionId, userId: owner.userId });
  return { statusCode: 200 };
});
