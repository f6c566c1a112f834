import type { WsPorts } from '#transport/ws.ts';
import { closeConnection, pushToConnections } from './push.ts';
import { admitFrame, refreshPresence } from './redis/connections.ts';

/** The WebSocket wrapper's ports wired to the connection registry (Redis) and the management API. */
export const wsPorts: WsPorts = {
  admitFrame: async (connectionId, perSecond) => {
    const admitted = await admitFrame(connectionId);
    return (
      admitted && {
        userId: admitted.userId,
        allowed: admitted.frames <= perSecond,
        refreshDue: admitted.refreshDue,
      }
    );
  },
  refreshPresence: (connectionId, userId) => refreshPresence(connectionId, userId),
  pushToConnections: (connectionIds, event) => pushToConnections(connectionIds, event),
  closeConnection: (connectionId) => closeConnection(connectionId),
};
