import { realtimePorts } from '#adapters/realtime.ts';
import { wsPorts } from '#adapters/ws-connections.ts';
import { SendMessageFrame } from '#contracts/ws.ts';
import { sendMessage } from '#core/messaging.ts';
import { wsRoute } from '#transport/ws.ts';

/** `sendMessage`: validate, authorize, dedupe the clientMsgId, publish to Kafka, then `ack`. */
export const handler = wsRoute(wsPorts, SendMessageFrame, (frame, { userId }) =>
  sendMessage(realtimePorts, { userId }, frame),
);
