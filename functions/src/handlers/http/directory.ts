import { contactIds } from '#adapters/cql/conversations.ts';
import { searchByPrefix } from '#adapters/cql/users.ts';
import { presenceOf } from '#adapters/redis/connections.ts';
import { PresenceQuery, UsersQuery } from '#contracts/http.ts';
import { type DirectoryPorts, presence, searchUsers } from '#core/directory.ts';
import { httpRouter, ok, route } from '#transport/http.ts';

const ports: DirectoryPorts = {
  searchByPrefix,
  presenceOf: (userIds) => presenceOf(userIds),
  contactIds,
};

/**
 * HTTP API: the user directory (username prefix search) and the presence snapshot; presence only of people
 * who share a conversation with the caller (core/directory.ts).
 */
export const handler = httpRouter('httpDirectory', {
  'GET /users': route({
    auth: true,
    query: UsersQuery,
    handle: async ({ userId, query }) => ok({ users: await searchUsers(ports, userId, query.query) }),
  }),
  'GET /presence': route({
    auth: true,
    query: PresenceQuery,
    handle: async ({ userId, query }) => ok({ presence: await presence(ports, userId, query.userIds) }),
  }),
});
