import type { ConversationPorts } from '#core/conversations.ts';
import { logger } from '#platform/log.ts';
import {
  addMembers,
  contactIds,
  createDm,
  createGroup,
  getConversation,
  isMember,
  listConversations,
  listMembers,
} from './cql/conversations.ts';
import { listMessages } from './cql/messages.ts';
import { listReceipts } from './cql/read-pointers.ts';
import { pushToUsers } from './push.ts';

/** The HTTP conversations core wired to the CQL store, Redis and the management API. */
export const conversationPorts: ConversationPorts = {
  createDm,
  createGroup,
  addMembers,
  getConversation,
  listConversations,
  listMembers,
  contactIds,
  isMember,
  listMessages,
  listReceipts,
  pushToUsers: (userIds, event) => pushToUsers(userIds, event),
  warn: (message, attributes) => logger.warn(message, { ...attributes }),
};
