import { conversationPorts as ports } from '#adapters/conversation-ports.ts';
import { PresenceQuery, UsersQuery } from '#contracts/http.ts';
import { presence, searchUsers } from '#core/conversations.ts';
import { httpRouter, ok, route } from '#transport/http.ts';

/** HTTP API: the user directory (username prefix search with online flags) and the presence snapshot. */
export const handler = httpRouter('httpDirectory', {
  'GET /users': route({
    auth: true,
    query: UsersQuery,
    handle: async ({ query }) => ok({ users: await searchUsers(ports, query.query) }),
  }),
  'GET /presence': route({
    auth: true,
    query: PresenceQuery,
    handle: async ({ query }) => ok({ presence: await presence(ports, query.userIds) }),
  }),
});
