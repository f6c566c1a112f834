import type { WsPorts } from '#transport/ws.ts';
import { closeConnection, pushToConnections } from './push.ts';
import { touchConnection, withinRate } from './redis/connections.ts';

/** The WebSocket wrapper's ports wired to the connection registry (Redis) and the management API. */
export const wsPorts: WsPorts = {
  touchConnection: (connectionId) => touchConnection(connectionId),
  withinRate: (connectionId, scope, perSecond) => withinRate(connectionId, scope, perSecond),
  pushToConnections: (connectionIds, event) => pushToConnections(connectionIds, event),
  closeConnection: (connectionId) => closeConnection(connectionId),
};
