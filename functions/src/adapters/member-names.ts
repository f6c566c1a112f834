import { memberIds } from './cql/conversations.ts';
import { getUsers } from './cql/users.ts';

/**
 * A conversation's members with their usernames, for mentions (issue 15). Usernames never change, so they are
 * cached per execution environment (bounded); the member list is read each time (one partition), and only for
 * a message whose body has an `@`.
 */
const usernames = new Map<string, string>();
const CACHE_MAX = 50_000;

export async function memberNames(conversationId: string): Promise<{ id: string; username: string }[]> {
  const ids = await memberIds(conversationId);
  const missing = ids.filter((id) => !usernames.has(id));
  if (missing.length > 0) {
    if (usernames.size + missing.length > CACHE_MAX) usernames.clear();
    for (const u of await getUsers(missing)) usernames.set(u.id, u.username);
  }
  return ids.flatMap((id) => {
    const username = usernames.get(id);
    return username === undefined ? [] : [{ id, username }];
  });
}
