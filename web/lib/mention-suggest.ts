import type { User } from '@chat/functions/contracts';
import { limits } from './limits.ts';

/**
 * Where a mention can start: an `@` at the start or after a character that cannot be part of a username or an
 * e-mail address's local part (`bob@alice.dev` mentions nobody), nor after another `@`. The server's rule
 * (functions/src/core/notifications.ts, `MENTION`), written out here as the web client's limits are (importing a
 * value from the contracts would load their schemas); `mentions.ts` marks what it found with it.
 */
export const MENTION_START = '(?<![A-Za-z0-9_.@+-])@';

/** An `@` where a mention can start, then username characters, up to the end (the caret). */
const TYPING = new RegExp(`${MENTION_START}([A-Za-z0-9_]{0,${limits.usernameMax}})$`);

/** The `@name` being typed: from its `@` (`start`) to the caret (`end`); `query` is what follows the `@`. */
export interface MentionToken {
  readonly start: number;
  readonly end: number;
  readonly query: string;
}

/**
 * The mention being typed at `caret`, or null: an `@` where a mention can start (`MENTION_START`), then
 * username characters up to the caret, and none right after it (the caret is at the end of the word).
 */
export function mentionAt(text: string, caret: number): MentionToken | null {
  const m = TYPING.exec(text.slice(0, caret));
  if (!m || /^[A-Za-z0-9_]/.test(text.slice(caret))) return null;
  return { start: m.index, end: caret, query: (m[1] ?? '').toLowerCase() };
}

/**
 * The members to offer for `query`, me excluded, at most `max`: usernames that start with it first, then display
 * names with a word that does, each group in the conversation's order.
 */
export function suggestMembers(members: readonly User[], meId: string, query: string, max = 6): User[] {
  const others = members.filter((m) => m.id !== meId);
  const byUsername = others.filter((m) => m.username.toLowerCase().startsWith(query));
  const byName = others.filter(
    (m) =>
      !byUsername.includes(m) &&
      m.displayName
        .toLowerCase()
        .split(/\s+/)
        .some((w) => w.startsWith(query)),
  );
  return [...byUsername, ...byName].slice(0, max);
}

/** `text` with the token replaced by `@username ` and where the caret goes next. */
export function insertMention(
  text: string,
  token: MentionToken,
  username: string,
): { text: string; caret: number } {
  const inserted = `@${username} `;
  const rest = text.slice(token.end).replace(/^ /, '');
  return { text: text.slice(0, token.start) + inserted + rest, caret: token.start + inserted.length };
}
