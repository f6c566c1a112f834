import type { Presence, User } from '#contracts/models.ts';
import { ChatError } from './errors.ts';

/**
 * The user directory and presence, as the HTTP API offers them. Presence (online, `lastSeenAt`) is shown only
 * between people who share a conversation (docs/protocol.md, "Who sees presence"): the directory finds anyone by
 * username, but a stranger's entry has no `online` flag, and `GET /presence` leaves strangers out. The realtime
 * `presence` events follow the same rule (core/presence.ts tells contacts only). Pure: works through the ports.
 */
export interface DirectoryPorts {
  searchByPrefix(prefix: string, limit: number): Promise<User[]>;
  presenceOf(userIds: readonly string[]): Promise<Presence[]>;
  /** Everyone who shares at least one conversation with the user. */
  contactIds(userId: string): Promise<string[]>;
}

/** Directory answers at most this many users. */
export const DIRECTORY_LIMIT = 20;
/** GET /presence answers at most this many ids. */
export const PRESENCE_MAX_IDS = 100;

/** Who may see whose presence: the asker's contacts and the asker. */
async function visibleTo(ports: DirectoryPorts, askerId: string): Promise<Set<string>> {
  const contacts = new Set(await ports.contactIds(askerId));
  contacts.add(askerId);
  return contacts;
}

/** Username prefix search; contacts (and the asker) carry their online flag, strangers none. */
export async function searchUsers(
  ports: DirectoryPorts,
  askerId: string,
  query: string,
): Promise<(User & { online?: boolean })[]> {
  const users = await ports.searchByPrefix(query, DIRECTORY_LIMIT);
  if (users.length === 0) return [];
  const visible = await visibleTo(ports, askerId);
  const shown = users.filter((u) => visible.has(u.id)).map((u) => u.id);
  const presence = shown.length === 0 ? [] : await ports.presenceOf(shown);
  const online = new Map(presence.map((p) => [p.userId, p.online]));
  return users.map((u) => (online.has(u.id) ? { ...u, online: online.get(u.id) === true } : u));
}

/**
 * Presence of a comma-separated list of user ids (at most 100, duplicates and blanks ignored), for those that
 * share a conversation with the asker (or are the asker); others are left out of the answer.
 */
export async function presence(
  ports: DirectoryPorts,
  askerId: string,
  userIdsCsv: string,
): Promise<Presence[]> {
  const ids = [
    ...new Set(
      userIdsCsv
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  if (ids.length > PRESENCE_MAX_IDS) {
    throw new ChatError('validation_failed', `At most ${PRESENCE_MAX_IDS} user ids.`);
  }
  if (ids.some((id) => id.length > 64)) throw new ChatError('validation_failed', 'A user id is too long.');
  if (ids.length === 0) return [];
  const visible = await visibleTo(ports, askerId);
  const shown = ids.filter((id) => visible.has(id));
  return shown.length === 0 ? [] : ports.presenceOf(shown);
}
