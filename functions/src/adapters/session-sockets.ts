import { mapLimit } from '@chat/kit/async';
import { errorCodes } from '#contracts/errors.ts';
import type { ErrorEvent } from '#contracts/ws.ts';
import { logger } from '#platform/log.ts';
import { closeConnection, pushToConnections } from './push.ts';
import { connectionsOfSession } from './redis/connections.ts';

/**
 * Revocation reaches open sockets: when a session is revoked (logout, refresh-token reuse), every WebSocket
 * connection opened with a ticket of that session is told (`error` frame, code `session_revoked`) and closed
 * through the management API (DeleteConnection: the client sees close code 1000; API Gateway cannot send
 * another one). The client signs out on the frame; one that missed it reconnects, and its ticket request is
 * refused (401), which signs it out too. Runs inside the revoking request, so it is done within seconds.
 */
export async function closeSessionSockets(userId: string, sessionId: string): Promise<number> {
  const ids = await connectionsOfSession(userId, sessionId);
  if (ids.length === 0) return 0;
  const event: ErrorEvent = {
    type: 'error',
    code: 'session_revoked',
    message: errorCodes.session_revoked.message,
  };
  await pushToConnections(ids, event).catch((error: unknown) =>
    logger.warn('session revoked: could not tell the sockets', { error }),
  );
  await mapLimit(ids, 8, (id) => closeConnection(id));
  logger.info('session revoked: sockets closed', { userId, sessionId, connections: ids.length });
  return ids.length;
}
