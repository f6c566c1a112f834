import { mapLimit } from '@chat/kit/async';
import type cassandra from 'cassandra-driver';
import type { Message } from '#contracts/models.ts';
import { chunk } from '#core/batch.ts';
import type { MessageRow } from '#core/changes.ts';
import { bucketOf } from '#core/ids.ts';
import { clientKey, planPersist, seqClock, toInbound } from '#core/persist.ts';
import type { InboundMessage, PersistResult, StoredMessage } from '#core/ports.ts';
import { logger } from '#platform/log.ts';
import { encodeMessageAttachments, messageRowAttachments } from './attachments.ts';
import { consistency, read, type Statement, writeAll } from './client.ts';
import { encodeLastMessage, membersOf } from './conversations.ts';
import {
  CHANGE_COLUMNS,
  decodeMentions,
  encodeMentions,
  presentPage,
  replyStatement,
  rowToMessageRow,
} from './message-view.ts';
import { long, readPointerStatement, toBigInt } from './read-pointers.ts';

/**
 * Messages in the CQL store: the idempotent persist of a Kafka batch and history paging.
 *
 * Tables: `messages` ((conversation_id, bucket) → rows newest first by message_id, with seq),
 * `conversation_buckets` (which buckets hold messages), `client_messages` ((conversation, sender, clientMsgId)
 * → message id: durable dedupe of resends), and `conversations` (`last_seq`, `last_message*`, `last_offset`) (the
 * conversation's state, a max-register written after the rows; no lightweight transaction).
 *
 * The reads that decide idempotency run at LOCAL_QUORUM so they see the previous attempt's LOCAL_QUORUM writes.
 * One conversation's records arrive in one partition, processed one batch at a time, so there is one writer
 * of a conversation's new seqs; a stale one (rebalance overlap) computes the same rows and cannot move the
 * state back (docs/adr/0006-persist-without-paxos.md).
 */

const quorumRead = { consistency: consistency.write };

/**
 * (conversation, bucket) pairs this execution environment has already recorded in `conversation_buckets`:
 * the row is written once and never deleted, so a warm environment skips rewriting it for every batch (one
 * write per conversation per batch saved). Bounded; forgetting only costs a redundant idempotent write.
 */
const knownBuckets = new Set<string>();
const KNOWN_BUCKETS_MAX = 100_000;
const CONCURRENCY = 16;

const toNumber = (v: unknown): number => {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  return Number(String(v));
};

export function rowToMessage(r: cassandra.types.Row, conversationId: string): Message {
  const attachments = messageRowAttachments(r);
  return {
    id: r.message_id as string,
    conversationId,
    senderId: r.sender_id as string,
    clientMsgId: r.client_msg_id as string,
    body: r.body as string,
    sentAt: (r.sent_at as Date).toISOString(),
    ...(attachments ? { attachments } : {}),
    ...decodeMentions(r.mentions),
  };
}

/** Stored seq and write time (µs, the seq clock's T for rows persist wrote) of message ids, by id. */
async function storedSeqs(
  conversationId: string,
  ids: readonly string[],
): Promise<Map<string, { seq: number; time: bigint }>> {
  const byBucket = new Map<number, string[]>();
  for (const id of ids) {
    const b = bucketOf(id);
    const list = byBucket.get(b) ?? [];
    if (!list.includes(id)) list.push(id);
    byBucket.set(b, list);
  }
  const queries = [...byBucket].flatMap(([bucket, list]) =>
    chunk(list, 100).map((part) => ({ bucket, part })),
  );
  const results = await mapLimit(queries, CONCURRENCY, ({ bucket, part }) =>
    read(
      'SELECT message_id, seq, WRITETIME(seq) AS seq_time FROM messages WHERE conversation_id = ? AND bucket = ? AND message_id IN ?',
      [conversationId, bucket, part],
      quorumRead,
    ),
  );
  const seqs = new Map<string, { seq: number; time: bigint }>();
  for (const rs of results)
    for (const r of rs.rows)
      seqs.set(r.message_id as string, { seq: toNumber(r.seq), time: toBigInt(r.seq_time) });
  return seqs;
}

/**
 * Stored owner message id of the messages' (sender, clientMsgId) pairs, by `clientKey`: one statement per
 * sender (IN on the last partition key column; Amazon Keyspaces splits it into single-partition reads).
 */
async function clientOwners(
  conversationId: string,
  messages: readonly Message[],
): Promise<Map<string, string>> {
  const bySender = new Map<string, Set<string>>();
  for (const m of messages) {
    const set = bySender.get(m.senderId) ?? new Set<string>();
    set.add(m.clientMsgId);
    bySender.set(m.senderId, set);
  }
  const queries = [...bySender].flatMap(([senderId, ids]) =>
    chunk([...ids], 100).map((part) => ({ senderId, part })),
  );
  const owners = new Map<string, string>();
  await mapLimit(queries, CONCURRENCY, async ({ senderId, part }) => {
    const rs = await read(
      'SELECT client_msg_id, message_id FROM client_messages WHERE conversation_id = ? AND sender_id = ? AND client_msg_id IN ?',
      [conversationId, senderId, part],
      quorumRead,
    );
    for (const r of rs.rows)
      owners.set(clientKey(senderId, r.client_msg_id as string), r.message_id as string);
  });
  return owners;
}

interface ConversationState {
  readonly lastSeq: number;
  /** WRITETIME(last_seq), µs. */
  readonly lastSeqTime: bigint;
  readonly lastOffset: number | null;
  readonly lastPartition: number | null;
  readonly membersVersion: string;
}

async function conversationState(conversationId: string): Promise<ConversationState | null> {
  const rs = await read(
    'SELECT last_seq, WRITETIME(last_seq) AS seq_time, last_offset, last_partition, members_version FROM conversations WHERE conversation_id = ?',
    [conversationId],
    quorumRead,
  );
  const r = rs.first();
  if (!r) return null;
  return {
    lastSeq: toNumber(r.last_seq),
    lastSeqTime: toBigInt(r.seq_time),
    lastOffset: r.last_offset === null || r.last_offset === undefined ? null : toNumber(r.last_offset),
    lastPartition: r.last_partition ?? null,
    membersVersion: String(r.members_version ?? 'none'),
  };
}

/**
 * Persists one conversation's messages from a batch, idempotently and without lightweight transactions
 * (core/persist.ts has the numbering rules; docs/adr/0006-persist-without-paxos.md the argument):
 *
 * 1. One read of the conversation's state: `last_seq` with its write time, the Kafka high-water mark
 *    (`last_partition`, `last_offset`) and `members_version`. Records of that partition at or below
 *    `last_offset` were fully applied by an earlier attempt: only their stored seqs are read (a redelivery).
 *    Records above it are numbered from the state, deterministically, so an interrupted attempt that wrote
 *    rows but not the state is rewritten identically. Without a usable high-water mark (records without a
 *    position, a conversation last written before it existed, another partition) the stored rows are read.
 * 2. The rows (`messages` with the seq clock's timestamp, `client_messages`, new `conversation_buckets`), then
 *    the state `USING TIMESTAMP T(last_seq)`: a max-register, so a stale writer can never move it back.
 * 3. With the state, each sender's read pointer past their own last message, also a max-register
 *    (read-pointers.ts): a sender has read their own messages.
 * Requests: the rows go in unlogged batches (`writeAll`: one request for a small batch), the state and the
 * pointers in one more; an unlogged batch is not atomic, its statements apply as if sent one by one, so the
 * argument of ADR 0006 holds unchanged (the state still follows every row of the batch).
 * Members come from the warm environment's cache while `members_version` is unchanged.
 * Throws when the store fails: the caller lets the whole Kafka batch be retried.
 */
export async function persistMessages(
  conversationId: string,
  input: readonly (Message | InboundMessage)[],
): Promise<PersistResult> {
  const records = input.map(toInbound);
  const state = await conversationState(conversationId);
  const [members, first] = await Promise.all([
    membersOf(conversationId, state?.membersVersion ?? 'none'),
    attempt(conversationId, records, state, true),
  ]);
  // A record at or below the high-water mark whose row is missing and whose clientMsgId no other message
  // owns was never applied: the mark is not this log's (a recreated topic restarts offsets). Read the rows
  // instead, once; this batch's state write then records this log's mark.
  const result = first ?? (await attempt(conversationId, records, state, false));
  if (!result) throw new Error(`persist: ${conversationId}: inconsistent state`);
  return { ...result, members };
}

async function attempt(
  conversationId: string,
  records: readonly InboundMessage[],
  state: ConversationState | null,
  trustMark: boolean,
): Promise<Omit<PersistResult, 'members'> | null> {
  const hwm =
    trustMark && state && state.lastOffset !== null && state.lastPartition !== null
      ? { partition: state.lastPartition, offset: state.lastOffset }
      : null;
  const isApplied = (r: InboundMessage) =>
    hwm !== null && r.partition === hwm.partition && r.offset !== undefined && r.offset <= hwm.offset;
  const applied = records.filter(isApplied);
  const pending = records.filter((r) => !isApplied(r));
  // Offsets tell nothing: read which rows exist (the pre-0006 way, kept for these cases).
  const fallback =
    pending.length > 0 &&
    (!trustMark ||
      pending.some((r) => r.offset === undefined || r.partition === undefined) ||
      (state !== null && state.lastSeq > 0 && hwm === null) ||
      (hwm !== null && pending.some((r) => r.partition !== hwm.partition)));
  const toRead = [...applied, ...(fallback ? pending : [])].map((r) => r.message.id);
  const [stored, owners] = await Promise.all([
    toRead.length > 0 ? storedSeqs(conversationId, toRead) : new Map<string, { seq: number; time: bigint }>(),
    clientOwners(
      conversationId,
      pending.map((r) => r.message),
    ),
  ]);

  // Applied records: stored rows keep their seq; one without a row was a duplicate send.
  const appliedRows: StoredMessage[] = [];
  const missing: Message[] = [];
  const seenApplied = new Set<string>();
  for (const { message: m } of applied) {
    if (seenApplied.has(m.id)) continue;
    seenApplied.add(m.id);
    const row = stored.get(m.id);
    if (row) appliedRows.push({ message: m, seq: row.seq, isNew: false, writeTime: row.time });
    else missing.push(m);
  }
  if (missing.length > 0) {
    const missingOwners = await clientOwners(conversationId, missing);
    const neverApplied = missing.some((m) => {
      const owner = missingOwners.get(clientKey(m.senderId, m.clientMsgId));
      return owner === undefined || owner === m.id;
    });
    if (neverApplied) {
      logger.warn('persist: records at or below the high-water mark were never applied; reading the rows', {
        conversationId,
        mark: hwm,
      });
      return null;
    }
  }

  const existingSeqs = new Map<string, number>();
  const times = new Map<string, bigint>();
  let floor = 0n;
  const lastSeq = state?.lastSeq ?? 0;
  if (fallback) {
    for (const { message: m } of pending) {
      const row = stored.get(m.id);
      if (!row) continue;
      existingSeqs.set(m.id, row.seq);
      times.set(m.id, row.time);
      if (row.time > floor) floor = row.time;
    }
  } else {
    // A message id can come again at a higher offset (the send path publishes a resend's id again). Its
    // clientMsgId row names it as the owner: if its stored seq is within last_seq, an applied record had it,
    // and it keeps that seq. A stored seq above last_seq is an interrupted attempt's: numbered again (to the
    // same value). New messages have no owner row, so this reads nothing for them.
    const own = pending
      .map((r) => r.message)
      .filter((m) => owners.get(clientKey(m.senderId, m.clientMsgId)) === m.id);
    const rows =
      own.length > 0
        ? await storedSeqs(
            conversationId,
            own.map((m) => m.id),
          )
        : undefined;
    for (const m of own) {
      const row = rows?.get(m.id);
      if (!row || row.seq > lastSeq) continue;
      existingSeqs.set(m.id, row.seq);
      times.set(m.id, row.time);
    }
  }
  const plan = planPersist(
    pending.map((r) => r.message),
    { lastSeq, existingSeqs, clientOwners: owners },
  );
  const firstNew = pending.find((r) => plan.rows.some((row) => row.isNew && row.message.id === r.message.id));
  const clock = seqClock({ lastSeq, lastSeqTime: state?.lastSeqTime ?? 0n }, firstNew, floor);

  const writes: Statement[] = [];
  const buckets = new Set<number>();
  const planned: StoredMessage[] = [];
  for (const row of plan.rows) {
    const { message: m, seq, isNew } = row;
    const bucket = bucketOf(m.id);
    buckets.add(bucket);
    const time = isNew ? clock(seq) : times.get(m.id);
    planned.push({ ...row, ...(time !== undefined ? { writeTime: time } : {}) });
    if (isNew) {
      // `attachments` and `mentions` (issues 14, 15) only when there are some: a bound null would write a tombstone.
      const attachmentsJson = encodeMessageAttachments(m.attachments);
      const withMentions = m.mentions !== undefined && m.mentions.length > 0;
      writes.push({
        query: `INSERT INTO messages (conversation_id, bucket, message_id, sender_id, client_msg_id, body, sent_at, seq${
          attachmentsJson !== null ? ', attachments' : ''
        }${withMentions ? ', mentions' : ''}) VALUES (?, ?, ?, ?, ?, ?, ?, ?${attachmentsJson !== null ? ', ?' : ''}${
          withMentions ? ', ?' : ''
        }) USING TIMESTAMP ?`,
        params: [
          conversationId,
          bucket,
          m.id,
          m.senderId,
          m.clientMsgId,
          m.body,
          new Date(m.sentAt),
          seq,
          ...(attachmentsJson !== null ? [attachmentsJson] : []),
          ...(withMentions ? [encodeMentions(m.mentions ?? [])] : []),
          long(clock(seq)),
        ],
        partition: `messages:${conversationId}:${bucket}`,
      });
      if (m.replyTo) writes.push(replyStatement(conversationId, m, clock(seq)));
    }
    writes.push({
      query:
        'INSERT INTO client_messages (conversation_id, sender_id, client_msg_id, message_id) VALUES (?, ?, ?, ?)',
      params: [conversationId, m.senderId, m.clientMsgId, m.id],
    });
  }
  const newBuckets = [...buckets].filter((b) => !knownBuckets.has(`${conversationId}:${b}`));
  for (const bucket of newBuckets) {
    writes.push({
      query: 'INSERT INTO conversation_buckets (conversation_id, bucket) VALUES (?, ?)',
      params: [conversationId, bucket],
      partition: `conversation_buckets:${conversationId}`,
    });
  }
  const warnings = await writeAll(writes);
  const persistedAt = Date.now();
  if (knownBuckets.size + newBuckets.length > KNOWN_BUCKETS_MAX) knownBuckets.clear();
  for (const b of newBuckets) knownBuckets.add(`${conversationId}:${b}`);

  const rows = [...appliedRows, ...planned].sort((a, b) => a.seq - b.seq);
  const after: Statement[] = [];
  if (!state) {
    // The send path checks membership, so this is a bug or a deleted conversation: keep the rows (nobody can
    // read them without membership) and do not create a half conversation row.
    logger.error('persist: messages for a conversation that does not exist', { conversationId });
  } else if (plan.lastMessage) {
    const positioned = records.filter((r) => r.partition !== undefined && r.offset !== undefined);
    const top = positioned.length === records.length ? positioned.at(-1) : undefined;
    const samePartition = top !== undefined && positioned.every((r) => r.partition === top.partition);
    const offset = samePartition ? Math.max(...positioned.map((r) => r.offset as number)) : null;
    after.push(
      stateStatement(conversationId, clock(plan.lastSeq), plan.lastSeq, plan.lastMessage, {
        partition: samePartition ? (top?.partition ?? null) : null,
        offset,
      }),
    );
  }
  after.push(...senderPointerStatements(conversationId, rows));
  warnings.push(...(await writeAll(after)));
  // none expected (batchGroups keeps under Cassandra's batch warnings); if the server does warn, it is said here
  if (warnings.length > 0) logger.warn('persist: the database warned', { conversationId, warnings });

  return { stored: rows, duplicates: [...missing, ...plan.duplicates], persistedAt };
}

/** The conversation's state, written after its rows, as a max-register on the seq clock. */
function stateStatement(
  conversationId: string,
  time: bigint,
  lastSeq: number,
  lastMessage: Message,
  hwm: { partition: number | null; offset: number | null },
): Statement {
  const positioned = hwm.partition !== null && hwm.offset !== null;
  return {
    query: positioned
      ? 'UPDATE conversations USING TIMESTAMP ? SET last_seq = ?, last_message_id = ?, last_message = ?, updated_at = ?, last_partition = ?, last_offset = ? WHERE conversation_id = ?'
      : 'UPDATE conversations USING TIMESTAMP ? SET last_seq = ?, last_message_id = ?, last_message = ?, updated_at = ? WHERE conversation_id = ?',
    params: [
      long(time),
      lastSeq,
      lastMessage.id,
      encodeLastMessage(lastMessage),
      new Date(lastMessage.sentAt),
      ...(positioned ? [hwm.partition, hwm.offset] : []),
      conversationId,
    ],
    partition: `conversations:${conversationId}`,
  };
}

/**
 * A sender has read their own messages: each sender's pointer moves (max-register, at the row's seq-clock
 * time) to their last one. Rows without a known write time are skipped.
 */
function senderPointerStatements(conversationId: string, rows: readonly StoredMessage[]): Statement[] {
  const last = new Map<string, StoredMessage>();
  for (const s of rows) {
    const prev = last.get(s.message.senderId);
    if (!prev || s.seq > prev.seq) last.set(s.message.senderId, s);
  }
  return [...last.values()]
    .filter((s) => s.writeTime !== undefined && s.writeTime > 0n)
    .map((s) =>
      readPointerStatement(conversationId, s.message.senderId, s.writeTime ?? 0n, {
        lastReadId: s.message.id,
        lastReadSeq: s.seq,
        readAt: s.message.sentAt,
      }),
    );
}

/** The seq of a stored message, or null when it is not (yet) stored. */
export async function messageSeq(conversationId: string, messageId: string): Promise<number | null> {
  const rs = await read(
    'SELECT seq FROM messages WHERE conversation_id = ? AND bucket = ? AND message_id = ?',
    [conversationId, bucketOf(messageId), messageId],
    quorumRead,
  );
  const r = rs.first();
  return r ? toNumber(r.seq) : null;
}

/** A stored message, or null. */
export async function getMessage(conversationId: string, messageId: string): Promise<Message | null> {
  const rs = await read(
    'SELECT message_id, sender_id, client_msg_id, body, sent_at, attachments, mentions FROM messages WHERE conversation_id = ? AND bucket = ? AND message_id = ?',
    [conversationId, bucketOf(messageId), messageId],
  );
  const r = rs.first();
  return r ? rowToMessage(r, conversationId) : null;
}

export interface HistoryPage {
  readonly messages: Message[];
  /** Pass as `before` (paging back) or `after` (filling forward) for the next page; null: no more. */
  readonly nextCursor: string | null;
}

/**
 * A page of history. Without `after`: newest first, older than `before` when given (paging back). With
 * `after`: oldest first, newer than `after` (and older than `before` when both are given): filling a gap after
 * a reconnect. Walks only the buckets that hold messages.
 */
export async function listMessages(
  conversationId: string,
  options: { before?: string; after?: string; limit: number },
): Promise<HistoryPage> {
  const limit = Math.max(1, Math.min(options.limit, 100));
  const forward = options.after !== undefined;
  const bucketRows = await readPaged(
    'SELECT bucket FROM conversation_buckets WHERE conversation_id = ?',
    [conversationId],
    Number.POSITIVE_INFINITY,
  );
  const lo = options.after !== undefined ? bucketOf(options.after) : Number.NEGATIVE_INFINITY;
  const hi = options.before !== undefined ? bucketOf(options.before) : Number.POSITIVE_INFINITY;
  const buckets = bucketRows
    .map((r) => r.bucket as number)
    .filter((b) => b >= lo && b <= hi)
    .sort((a, b) => (forward ? a - b : b - a));

  const conditions = ['conversation_id = ?', 'bucket = ?'];
  if (options.after !== undefined) conditions.push('message_id > ?');
  if (options.before !== undefined) conditions.push('message_id < ?');
  const query = `SELECT message_id, sender_id, client_msg_id, body, sent_at, attachments, mentions, ${CHANGE_COLUMNS} FROM messages WHERE ${conditions.join(
    ' AND ',
  )}${forward ? ' ORDER BY message_id ASC' : ''} LIMIT ?`;

  const found: MessageRow[] = [];
  for (const bucket of buckets) {
    const want = limit + 1 - found.length;
    if (want <= 0) break;
    const params: unknown[] = [conversationId, bucket];
    if (options.after !== undefined) params.push(options.after);
    if (options.before !== undefined) params.push(options.before);
    params.push(want);
    const rows = await readPaged(query, params, want);
    found.push(...rows.map((r) => rowToMessageRow(r, rowToMessage(r, conversationId))));
  }
  const more = found.length > limit;
  const page = found.slice(0, limit);
  // Each message as it is now: edits, deletes, reactions, reply snippets (message-view.ts).
  const messages = await presentPage(conversationId, page);
  return { messages, nextCursor: more ? (messages.at(-1)?.id ?? null) : null };
}

/**
 * Rows of a query up to `max`, following page states (Keyspaces may return an empty page while more rows
 * follow).
 */
async function readPaged(query: string, params: unknown[], max: number): Promise<cassandra.types.Row[]> {
  const rows: cassandra.types.Row[] = [];
  let pageState: string | undefined;
  do {
    const fetchSize = Number.isFinite(max) ? Math.max(1, Math.min(max - rows.length, 1000)) : 1000;
    const rs = await read(query, params, { fetchSize, ...(pageState ? { pageState } : {}) });
    rows.push(...rs.rows);
    pageState = rs.pageState ?? undefined;
  } while (pageState && rows.length < max);
  return rows.slice(0, max);
}
