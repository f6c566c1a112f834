import { realtimePorts } from '#adapters/realtime.ts';
import { wsPorts } from '#adapters/ws-connections.ts';
import { MarkReadFrame } from '#contracts/ws.ts';
import { markRead } from '#core/messaging.ts';
import { wsRoute } from '#transport/ws.ts';

/** `markRead`: the read pointer moves forward only; the members get a `receipt`. No response. */
export const handler = wsRoute(wsPorts, MarkReadFrame, async (frame, { userId, connectionId }) => {
  await markRead(realtimePorts, { userId, connectionId }, frame);
  return undefined;
});
