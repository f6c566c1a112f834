import { wsPorts } from '#adapters/ws-connections.ts';
import { PingFrame } from '#contracts/ws.ts';
import { wsRoute } from '#transport/ws.ts';

/** `ping`: the wrapper already counted the frame (and refreshed presence when due); answer `pong`. */
export const handler = wsRoute(wsPorts, PingFrame, async () => ({ type: 'pong' }));
