import { wsPorts } from '#adapters/ws-connections.ts';
import { PingFrame } from '#contracts/ws.ts';
import { wsRoute } from '#transport/ws.ts';

/** `ping`: the wrapper already refreshed the connection's TTL; answer `pong`. */
export const handler = wsRoute(wsPorts, PingFrame, async () => ({ type: 'pong' }));
