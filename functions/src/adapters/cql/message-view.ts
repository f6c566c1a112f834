import { mapLimit } from '@chat/kit/async';
import type cassandra from 'cassandra-driver';
import type { Message } from '#contracts/models.ts';
import { chunk } from '#core/batch.ts';
import { type MessageRow, presentMessage, type ReactionCell } from '#core/changes.ts';
import { bucketOf } from '#core/ids.ts';
import type { ReplyTarget } from '#core/ports.ts';
import { consistency, read, type Statement } from './client.ts';
import { long, toBigInt } from './read-pointers.ts';

/**
 * Messages as they are now (issue 14, docs/adr/0008-message-changes.md): the row's edit and delete times, its
 * reactions (`message_reactions`, in the message's own partition) and the snippet of the message it replies to,
 * resolved when read (so it always shows the original as it is now). A history page costs one reactions query
 * per bucket it spans (a clustering range over the page's ids) and, for replies to messages outside the page,
 * one query per bucket of those.
 */

const CONCURRENCY = 16;
const quorumRead = { consistency: consistency.write };

/** The `messages` columns of issue 14 that `rowToMessageRow` reads beside the message's own. */
export const CHANGE_COLUMNS = 'edited_at, deleted_at, reply_to, reply_to_sender';

/**
 * A reply's reference (issue 14): the original's id and sender on the row, at the row's own write time (its
 * snippet is resolved when read: message-view.ts). A statement of its own, so the row's insert stays as it is.
 */
export function replyStatement(conversationId: string, m: Message, time: bigint): Statement {
  return {
    query:
      'UPDATE messages USING TIMESTAMP ? SET reply_to = ?, reply_to_sender = ? WHERE conversation_id = ? AND bucket = ? AND message_id = ?',
    params: [long(time), m.replyTo?.id, m.replyTo?.senderId, conversationId, bucketOf(m.id), m.id],
    partition: `messages:${conversationId}:${bucketOf(m.id)}`,
  };
}

const isoOrUndefined = (v: unknown): string | undefined => (v instanceof Date ? v.toISOString() : undefined);
const textOrUndefined = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

/** A `messages` row (selected with `CHANGE_COLUMNS`) with its message as `rowToMessage` maps it. */
export function rowToMessageRow(r: cassandra.types.Row, message: Message): MessageRow {
  return {
    message,
    editedAt: isoOrUndefined(r.edited_at),
    deletedAt: isoOrUndefined(r.deleted_at),
    replyToId: textOrUndefined(r.reply_to),
    replyToSenderId: textOrUndefined(r.reply_to_sender),
  };
}

export const byBucket = (ids: Iterable<string>): [number, string[]][] => {
  const groups = new Map<number, Set<string>>();
  for (const id of ids) {
    const b = bucketOf(id);
    const set = groups.get(b) ?? new Set<string>();
    set.add(id);
    groups.set(b, set);
  }
  return [...groups].flatMap(([b, set]) => chunk([...set], 100).map((part): [number, string[]] => [b, part]));
};

const toCell = (r: cassandra.types.Row): ReactionCell => ({
  emoji: r.emoji as string,
  userId: r.user_id as string,
  active: r.active === true,
  time: toBigInt(r.t),
});

const addCell = (cells: Map<string, ReactionCell[]>, r: cassandra.types.Row) => {
  const id = r.message_id as string;
  const list = cells.get(id) ?? [];
  list.push(toCell(r));
  cells.set(id, list);
};

const REACTION_COLUMNS = 'message_id, emoji, user_id, active, WRITETIME(active) AS t';

/** Reaction cells of message ids (IN on the first clustering column, one query per bucket), by message id. */
export async function readReactions(
  conversationId: string,
  ids: Iterable<string>,
  options: { quorum?: boolean } = {},
): Promise<Map<string, ReactionCell[]>> {
  const cells = new Map<string, ReactionCell[]>();
  await mapLimit(byBucket(ids), CONCURRENCY, async ([bucket, part]) => {
    const rows = await readAllRows(
      `SELECT ${REACTION_COLUMNS} FROM message_reactions WHERE conversation_id = ? AND bucket = ? AND message_id IN ?`,
      [conversationId, bucket, part],
      options.quorum ? quorumRead : {},
    );
    for (const r of rows) addCell(cells, r);
  });
  return cells;
}

/** Reaction cells of a page: one clustering range (oldest..newest id of the page) per bucket the page spans. */
async function readPageReactions(
  conversationId: string,
  ids: readonly string[],
): Promise<Map<string, ReactionCell[]>> {
  const ranges = new Map<number, { lo: string; hi: string }>();
  for (const id of ids) {
    const b = bucketOf(id);
    const r = ranges.get(b);
    if (!r) ranges.set(b, { lo: id, hi: id });
    else {
      if (id < r.lo) r.lo = id;
      if (id > r.hi) r.hi = id;
    }
  }
  const wanted = new Set(ids);
  const cells = new Map<string, ReactionCell[]>();
  await mapLimit([...ranges], CONCURRENCY, async ([bucket, { lo, hi }]) => {
    const rows = await readAllRows(
      `SELECT ${REACTION_COLUMNS} FROM message_reactions WHERE conversation_id = ? AND bucket = ? AND message_id >= ? AND message_id <= ?`,
      [conversationId, bucket, lo, hi],
      {},
    );
    for (const r of rows) if (wanted.has(r.message_id as string)) addCell(cells, r);
  });
  return cells;
}

async function readAllRows(
  query: string,
  params: unknown[],
  options: cassandra.QueryOptions,
): Promise<cassandra.types.Row[]> {
  const rows: cassandra.types.Row[] = [];
  let pageState: string | undefined;
  do {
    const rs = await read(query, params, {
      fetchSize: 1000,
      ...options,
      ...(pageState ? { pageState } : {}),
    });
    rows.push(...rs.rows);
    pageState = rs.pageState ?? undefined;
  } while (pageState);
  return rows;
}

export const toTarget = (row: MessageRow): ReplyTarget => ({
  id: row.message.id,
  senderId: row.message.senderId,
  body: row.message.body,
  deleted: row.deletedAt !== undefined,
});

/**
 * Messages as the protocol shows them now, in the order of `rows`: reactions from `cells` (read them with the
 * rows), replies resolved from `rows` when the original is among them, else read.
 */
export async function present(
  conversationId: string,
  rows: readonly MessageRow[],
  cells: ReadonlyMap<string, readonly ReactionCell[]>,
): Promise<Message[]> {
  const known = new Map(rows.map((r) => [r.message.id, toTarget(r)]));
  const missing = new Set<string>();
  for (const r of rows) if (r.replyToId !== undefined && !known.has(r.replyToId)) missing.add(r.replyToId);
  const originals =
    missing.size > 0 ? await readTargets(conversationId, missing) : new Map<string, ReplyTarget>();
  return rows.map((r) => {
    const original =
      r.replyToId === undefined ? undefined : (known.get(r.replyToId) ?? originals.get(r.replyToId));
    return presentMessage(r, cells.get(r.message.id) ?? [], original ?? null);
  });
}

/** A history page's rows as the protocol shows them now (reactions by page range, replies resolved). */
export async function presentPage(conversationId: string, rows: readonly MessageRow[]): Promise<Message[]> {
  if (rows.length === 0) return [];
  const cells = await readPageReactions(
    conversationId,
    rows.map((r) => r.message.id),
  );
  return present(conversationId, rows, cells);
}

const rowToTarget = (r: cassandra.types.Row): ReplyTarget => ({
  id: r.message_id as string,
  senderId: r.sender_id as string,
  body: r.body as string,
  deleted: r.deleted_at instanceof Date,
});

const TARGET_COLUMNS = 'message_id, sender_id, body, deleted_at';

/** Stored messages as replies see them (sender, body, deleted), by id; one query per bucket. */
async function readTargets(conversationId: string, ids: Iterable<string>): Promise<Map<string, ReplyTarget>> {
  const out = new Map<string, ReplyTarget>();
  await mapLimit(byBucket(ids), CONCURRENCY, async ([bucket, part]) => {
    const rs = await read(
      `SELECT ${TARGET_COLUMNS} FROM messages WHERE conversation_id = ? AND bucket = ? AND message_id IN ?`,
      [conversationId, bucket, part],
    );
    for (const r of rs.rows) out.set(r.message_id as string, rowToTarget(r));
  });
  return out;
}

/** A stored message as an edit, delete, reaction or reply sees it (sender, body, deleted), or null. */
export async function messageTarget(conversationId: string, messageId: string): Promise<ReplyTarget | null> {
  const rs = await read(
    `SELECT ${TARGET_COLUMNS} FROM messages WHERE conversation_id = ? AND bucket = ? AND message_id = ?`,
    [conversationId, bucketOf(messageId), messageId],
    quorumRead,
  );
  const r = rs.first();
  return r ? rowToTarget(r) : null;
}

/** The distinct emoji a message has active reactions with. */
export async function reactionEmojis(conversationId: string, messageId: string): Promise<string[]> {
  const cells = await readReactions(conversationId, [messageId], { quorum: true });
  return [...new Set((cells.get(messageId) ?? []).filter((c) => c.active).map((c) => c.emoji))];
}

/** `messages.mentions` (issue 15): the mentioned user ids as a JSON array; absent when nobody is mentioned. */
export const encodeMentions = (ids: readonly string[]): string => JSON.stringify(ids);

export function decodeMentions(raw: unknown): { mentions?: string[] } {
  if (typeof raw !== 'string' || raw === '') return {};
  try {
    const ids: unknown = JSON.parse(raw);
    if (Array.isArray(ids) && ids.length > 0 && ids.every((id) => typeof id === 'string'))
      return { mentions: ids };
  } catch {
    // fall through: an unreadable value is shown as no mentions
  }
  return {};
}
