import { realtimePorts } from '#adapters/realtime.ts';
import { wsPorts } from '#adapters/ws-connections.ts';
import { ChangeMessageFrame } from '#contracts/ws.ts';
import { deleteMessage, editMessage, react } from '#core/edits.ts';
import { wsRoute } from '#transport/ws.ts';

/**
 * `editMessage`, `deleteMessage`, `react` (one function, three routes): validate, authorize against the stored
 * message (author only for edit and delete, members for reactions), dedupe the clientMsgId, publish the change
 * to Kafka keyed by conversation, then `ack` (docs/adr/0008-message-changes.md).
 */
export const handler = wsRoute(wsPorts, ChangeMessageFrame, (frame, { userId }) => {
  switch (frame.action) {
    case 'editMessage':
      return editMessage(realtimePorts, { userId }, frame);
    case 'deleteMessage':
      return deleteMessage(realtimePorts, { userId }, frame);
    case 'react':
      return react(realtimePorts, { userId }, frame);
  }
});
