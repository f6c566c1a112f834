import { realtimePorts } from '#adapters/realtime.ts';
import { wsPorts } from '#adapters/ws-connections.ts';
import { TypingFrame } from '#contracts/ws.ts';
import { typing } from '#core/messaging.ts';
import { wsRoute } from '#transport/ws.ts';

/** `typing`: pushed straight to the other members' connections; never stored, no response. */
export const handler = wsRoute(wsPorts, TypingFrame, async (frame, { userId, connectionId }) => {
  await typing(realtimePorts, { userId, connectionId }, frame);
  return undefined;
});
