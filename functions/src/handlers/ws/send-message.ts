import { realtimePorts } from '#adapters/realtime.ts';
import { SendMessageFrame } from '#contracts/ws.ts';
import { sendMessage } from '#core/messaging.ts';
import { wsRoute } from '#transport/ws.ts';

/** `sendMessage`: validate, authorize, dedupe the clientMsgId, publish to Kafka, then `ack`. */
export const handler = wsRoute(SendMessageFrame, (frame, { userId }) =>
  sendMessage(realtimePorts, { userId }, frame),
);
