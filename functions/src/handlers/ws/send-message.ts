import { realtimePorts } from '#adapters/realtime.ts';
import { wsPorts } from '#adapters/ws-connections.ts';
import { SendMessageFrame } from '#contracts/ws.ts';
import { sendMessage } from '#core/messaging.ts';
import { wsRoute } from '#transport/ws.ts';

/**
 * `sendMessage`: validate, authorize, dedupe the clientMsgId, publish to Kafka (stamped `trace.received`), then
 * `ack`. Two Redis round trips before the produce: the wrapper's frame script and the clientMsgId claim
 * (docs/adr/0007-send-path.md).
 */
export const handler = wsRoute(wsPorts, SendMessageFrame, (frame, { userId, receivedAt }) =>
  sendMessage(realtimePorts, { userId }, frame, { receivedAt }),
);
