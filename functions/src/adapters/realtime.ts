import { newId } from '#core/ids.ts';
import type { RealtimePorts } from '#core/ports.ts';
import { logger } from '#platform/log.ts';
import { attachmentPorts } from './attachments.ts';
import { contactIds, isMember, memberIds } from './cql/conversations.ts';
import { applyChanges } from './cql/message-changes.ts';
import { messageTarget, reactionEmojis } from './cql/message-view.ts';
import { messageSeq, persistMessages } from './cql/messages.ts';
import { advanceReadPointer } from './cql/read-pointers.ts';
import { publishMessage, publishNotifications } from './kafka/producer.ts';
import { memberNames } from './member-names.ts';
import { closeConnection, pushToUsers } from './push.ts';
import { claimClientMsgId, markPublished } from './redis/client-messages.ts';
import {
  addConnection,
  lapsedConnections,
  removeConnection,
  setLastSeen,
  withinRate,
} from './redis/connections.ts';
import { markPushed, pushedAlready } from './redis/pushed.ts';

/** The realtime core's ports wired to the real services (Redis, Kafka, the CQL store, the management API). */
export const realtimePorts: RealtimePorts = {
  attachments: attachmentPorts,
  now: () => Date.now(),
  newId: (now) => newId(now),
  log: {
    info: (message, attributes) => logger.info(message, { ...attributes }),
    warn: (message, attributes) => logger.warn(message, { ...attributes }),
    error: (message, attributes) => logger.error(message, { ...attributes }),
  },
  memberIds,
  isMember,
  contactIds,
  addConnection,
  removeConnection,
  setLastSeen,
  lapsedConnections,
  withinRate,
  pushToUsers,
  closeConnection,
  pushedAlready,
  markPushed,
  claimClientMsgId,
  markPublished,
  publish: (record) => publishMessage(record),
  memberNames,
  notifyOffline: (records) => publishNotifications(records),
  persistMessages,
  messageSeq,
  advanceReadPointer,
  messageTarget,
  reactionEmojis,
  applyChanges,
};
