import { realtimePorts } from '#adapters/realtime.ts';
import { disconnect } from '#core/presence.ts';
import { lifecycle, type WsEvent, type WsResult } from '#transport/ws.ts';

/** `$disconnect` (best effort on AWS): forget the connection; the user's last one takes them offline. */
export const handler = lifecycle(async (event: WsEvent): Promise<WsResult> => {
  await disconnect(realtimePorts, { connectionId: event.requestContext.connectionId });
  return { statusCode: 200 };
});
