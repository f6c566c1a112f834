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
import { searchByPrefix } from './cql/users.ts';
import { pushToUsers } from './push.ts';
import { presenceOf } from './redis/connections.ts';

/** The HTTP conversations/directory core wired to the CQL store, Redis and the management API. */
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
  searchByPrefix,
  presenceOf: (userIds) => presenceOf(userIds),
  warn: (message, attributes) => logger.warn(message, { ...attributes }),
};
