import { realtimePorts } from '#adapters/realtime.ts';
import { consumeTicket } from '#adapters/redis/tickets.ts';
import { connect } from '#core/presence.ts';
import { logger } from '#platform/log.ts';
import { lifecycle, type WsEvent, type WsResult } from '#transport/ws.ts';

/**
 * `$connect`: the one-time ticket (`?ticket=`, from POST /auth/ws-ticket) admits the socket; a missing, used,
 * expired or forged one refuses the upgrade with 401. Records the connection and, for the user's first one,
 * tells their contacts they are online.
 */
export const handler = lifecycle(async (event: WsEvent): Promise<WsResult> => {
  const owner = await consumeTicket(event.queryStringParameters?.ticket);
  if (!owner) return { statusCode: 401 };
  logger.appendKeys({ userId: owner.userId });
  await connect(realtimePorts, { connectionId: event.requestContext.connectionId, userId: owner.userId });
  return { statusCode: 200 };
});
