import { mapLimit } from '@chat/kit/async';
import type cassandra from 'cassandra-driver';
import { lwt, read, write } from '#adapters/cql/client.ts';
import type { User } from '#contracts/models.ts';
import { chunk } from '#core/batch.ts';
import { ChatError } from '#core/errors.ts';
import { newId } from '#core/ids.ts';

/**
 * Users: `users` by id, `users_by_username` (unique names claimed with LWT) and `user_directory` (prefix search
 * without secondary indexes: partition = the first two characters of the username, clustered by username, so a
 * prefix of 2+ characters is one clustering range of one partition and a 1-character prefix is an `IN` over the
 * 37 partitions it can start).
 */

/** A user with the stored password hash (for login only: never leaves the auth code). */
export interface UserRecord extends User {
  passwordHash: string;
}

/** Characters a username may hold, in byte order (the order Cassandra sorts `text` clustering keys in). */
const USERNAME_ALPHABET = '0123456789_abcdefghijklmnopqrstuvwxyz';
const DIRECTORY_PREFIX_LEN = 2;
/** Sorts after every username character, so `[q, q + HIGH)` is exactly the names starting with q. */
const HIGH = '~';
const IN_MAX = 100;

export const directoryPrefix = (username: string): string => username.slice(0, DIRECTORY_PREFIX_LEN);

const toUser = (r: cassandra.types.Row): User => ({
  id: r.user_id,
  username: r.username,
  displayName: r.display_name ?? r.username,
});

/**
 * Create a user. The username is claimed with `INSERT … IF NOT EXISTS` on `users_by_username`; a taken name
 * throws `username_taken`. The `users` row is written first, so a claimed name always points at a user; a lost
 * claim deletes its unreferenced row again.
 */
export async function createUser(input: {
  username: string;
  displayName?: string | undefined;
  passwordHash: string;
}): Promise<User> {
  const id = newId();
  const displayName = input.displayName ?? input.username;
  const now = new Date();
  await write(
    'INSERT INTO users (user_id, username, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)',
    [id, input.username, displayName, input.passwordHash, now],
  );
  const claim = await lwt('INSERT INTO users_by_username (username, user_id) VALUES (?, ?) IF NOT EXISTS', [
    input.username,
    id,
  ]);
  if (!claim.applied) {
    await write('DELETE FROM users WHERE user_id = ?', [id]);
    throw new ChatError('username_taken');
  }
  await write('INSERT INTO user_directory (prefix, username, user_id, display_name) VALUES (?, ?, ?, ?)', [
    directoryPrefix(input.username),
    input.username,
    id,
    displayName,
  ]);
  return { id, username: input.username, displayName };
}

export async function getUser(id: string): Promise<User | null> {
  const rs = await read('SELECT user_id, username, display_name FROM users WHERE user_id = ?', [id]);
  const row = rs.first();
  return row ? toUser(row) : null;
}

/** Users by id, in the order asked, unknown ids left out (duplicates collapse). */
export async function getUsers(ids: readonly string[]): Promise<User[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  const pages = await mapLimit(chunk(unique, IN_MAX), 4, (part) =>
    read('SELECT user_id, username, display_name FROM users WHERE user_id IN ?', [part]),
  );
  const byId = new Map<string, User>();
  for (const rs of pages) for (const row of rs.rows) byId.set(row.user_id, toUser(row));
  return unique.flatMap((id) => byId.get(id) ?? []);
}

/** Look a user up by exact username, with the password hash (login). */
export async function findByUsername(username: string): Promise<UserRecord | null> {
  const claim = await read('SELECT user_id FROM users_by_username WHERE username = ?', [username]);
  const userId: string | undefined = claim.first()?.user_id;
  if (!userId) return null;
  const rs = await read(
    'SELECT user_id, username, display_name, password_hash FROM users WHERE user_id = ?',
    [userId],
  );
  const row = rs.first();
  if (!row || row.username !== username) return null;
  return { ...toUser(row), passwordHash: row.password_hash };
}

/** Replaces a user's password hash (the transparent rehash at login). */
export async function updatePasswordHash(userId: string, passwordHash: string): Promise<void> {
  await write('UPDATE users SET password_hash = ? WHERE user_id = ?', [passwordHash, userId]);
}

/**
 * Users whose username starts with `prefix` (case-insensitive), in username order, at most `limit`. A prefix
 * that no username can start with returns nothing.
 */
export async function searchByPrefix(prefix: string, limit = 20): Promise<User[]> {
  const q = prefix.trim().toLowerCase();
  if (q.length === 0 || q.length > 32 || !/^[a-z0-9_]+$/.test(q) || limit < 1) return [];
  const columns = 'SELECT user_id, username, display_name FROM user_directory';
  if (q.length >= DIRECTORY_PREFIX_LEN) {
    const rs = await read(`${columns} WHERE prefix = ? AND username >= ? AND username < ? LIMIT ?`, [
      directoryPrefix(q),
      q,
      q + HIGH,
      limit,
    ]);
    return rs.rows.map((r) => toUser(r));
  }
  // One character: the 37 partitions it can begin, listed in byte order. Cassandra returns `IN` partitions in
  // key order and Keyspaces in the order listed, so `LIMIT` keeps the alphabetically first names on both.
  const partitions = [...USERNAME_ALPHABET].map((c) => q + c);
  const rs = await read(`${columns} WHERE prefix IN ? LIMIT ?`, [partitions, limit]);
  return rs.rows
    .map((r) => toUser(r))
    .sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0))
    .slice(0, limit);
}
