import { mapLimit } from '@chat/kit/async';
import type cassandra from 'cassandra-driver';
import type { Message } from '#contracts/models.ts';
import { chunk } from '#core/batch.ts';
import { bucketOf } from '#core/ids.ts';
import { clientKey, planPersist } from '#core/persist.ts';
import type { PersistResult } from '#core/ports.ts';
import { logger } from '#platform/log.ts';
import { consistency, lwt, read, write } from './client.ts';
import { encodeLastMessage } from './conversations.ts';

/**
 * Messages in the CQL store: the idempotent persist of a Kafka batch and history paging.
 *
 * Tables: `messages` ((conversation_id, bucket) → rows newest first by message_id, with seq),
 * `conversation_buckets` (which buckets hold messages), `client_messages` ((conversation, sender, clientMsgId)
 * → message id: durable dedupe of resends), and `conversations.last_seq/last_message*` (advanced with one LWT
 * per conversation per batch).
 *
 * The reads that decide idempotency run at LOCAL_QUORUM so they see the previous attempt's LOCAL_QUORUM writes.
 * One conversation's records arrive in one partition, processed one batch at a time, so there is no concurrent
 * writer for a conversation's new seqs; the compare-and-set on last_seq guards the rest.
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
const MAX_CAS_ATTEMPTS = 5;

const toNumber = (v: unknown): number => {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  return Number(String(v));
};

export function rowToMessage(r: cassandra.types.Row, conversationId: string): Message {
  return {
    id: r.message_id as string,
    conversationId,
    senderId: r.sender_id as string,
    clientMsgId: r.client_msg_id as string,
    body: r.body as string,
    sentAt: (r.sent_at as Date).toISOString(),
  };
}

async function existingSeqs(
  conversationId: string,
  messages: readonly Message[],
): Promise<Map<string, number>> {
  const byBucket = new Map<number, string[]>();
  for (const m of messages) {
    const b = bucketOf(m.id);
    const ids = byBucket.get(b) ?? [];
    if (!ids.includes(m.id)) ids.push(m.id);
    byBucket.set(b, ids);
  }
  const queries = [...byBucket].flatMap(([bucket, ids]) => chunk(ids, 100).map((part) => ({ bucket, part })));
  const results = await mapLimit(queries, CONCURRENCY, ({ bucket, part }) =>
    read(
      'SELECT message_id, seq FROM messages WHERE conversation_id = ? AND bucket = ? AND message_id IN ?',
      [conversationId, bucket, part],
      quorumRead,
    ),
  );
  const seqs = new Map<string, number>();
  for (const rs of results) for (const r of rs.rows) seqs.set(r.message_id as string, toNumber(r.seq));
  return seqs;
}

async function clientOwners(
  conversationId: string,
  messages: readonly Message[],
): Promise<Map<string, string>> {
  const pairs = new Map<string, Message>();
  for (const m of messages) pairs.set(clientKey(m.senderId, m.clientMsgId), m);
  const owners = new Map<string, string>();
  await mapLimit([...pairs], CONCURRENCY, async ([key, m]) => {
    const rs = await read(
      'SELECT message_id FROM client_messages WHERE conversation_id = ? AND sender_id = ? AND client_msg_id = ?',
      [conversationId, m.senderId, m.clientMsgId],
      quorumRead,
    );
    const owner = rs.first()?.message_id as string | undefined;
    if (owner) owners.set(key, owner);
  });
  return owners;
}

/**
 * Persists one conversation's messages from a batch, idempotently (see core/persist.ts for the rules).
 * Throws when the store fails: the caller lets the whole Kafka batch be retried.
 */
export async function persistMessages(
  conversationId: string,
  messages: readonly Message[],
): Promise<PersistResult> {
  const [conversation, seqs, owners] = await Promise.all([
    read('SELECT last_seq FROM conversations WHERE conversation_id = ?', [conversationId], quorumRead),
    existingSeqs(conversationId, messages),
    clientOwners(conversationId, messages),
  ]);
  const current = conversation.first();
  const rawLastSeq: unknown = current?.last_seq ?? null;
  const plan = planPersist(messages, {
    lastSeq: toNumber(rawLastSeq),
    existingSeqs: seqs,
    clientOwners: owners,
  });

  const writes: { query: string; params: unknown[] }[] = [];
  const buckets = new Set<number>();
  for (const { message: m, seq, isNew } of plan.rows) {
    const bucket = bucketOf(m.id);
    buckets.add(bucket);
    if (isNew) {
      writes.push({
        query:
          'INSERT INTO messages (conversation_id, bucket, message_id, sender_id, client_msg_id, body, sent_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        params: [conversationId, bucket, m.id, m.senderId, m.clientMsgId, m.body, new Date(m.sentAt), seq],
      });
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
    });
  }
  await mapLimit(writes, CONCURRENCY, (w) => write(w.query, w.params));
  if (knownBuckets.size + newBuckets.length > KNOWN_BUCKETS_MAX) knownBuckets.clear();
  for (const b of newBuckets) knownBuckets.add(`${conversationId}:${b}`);

  if (!current) {
    // The send path checks membership, so this is a bug or a deleted conversation: keep the rows (nobody can
    // read them without membership) and do not create a half conversation row.
    logger.error('persist: messages for a conversation that does not exist', { conversationId });
  } else if (plan.lastMessage) {
    await advanceConversation(conversationId, rawLastSeq, plan.lastSeq, plan.lastMessage);
  }
  return { stored: plan.rows, duplicates: plan.duplicates };
}

/** Compare-and-set of conversations.last_seq (forward only) with the last message. */
async function advanceConversation(
  conversationId: string,
  expected: unknown,
  lastSeq: number,
  lastMessage: Message,
): Promise<void> {
  let expect = expected;
  for (let attempt = 1; attempt <= MAX_CAS_ATTEMPTS; attempt++) {
    const { applied, row } = await lwt(
      'UPDATE conversations SET last_seq = ?, last_message_id = ?, last_message = ?, updated_at = ? WHERE conversation_id = ? IF last_seq = ?',
      [
        lastSeq,
        lastMessage.id,
        encodeLastMessage(lastMessage),
        new Date(lastMessage.sentAt),
        conversationId,
        expect,
      ],
    );
    if (applied) return;
    if (!row?.keys().includes('last_seq')) {
      logger.error('persist: the conversation row vanished', { conversationId });
      return;
    }
    const now = row.last_seq ?? null;
    if (toNumber(now) >= lastSeq) {
      logger.warn('persist: last_seq already advanced by another writer', { conversationId, lastSeq });
      return;
    }
    expect = now;
  }
  throw new Error(
    `persist: could not advance last_seq of ${conversationId} after ${MAX_CAS_ATTEMPTS} attempts`,
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
    'SELECT message_id, sender_id, client_msg_id, body, sent_at FROM messages WHERE conversation_id = ? AND bucket = ? AND message_id = ?',
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
  const query = `SELECT message_id, sender_id, client_msg_id, body, sent_at FROM messages WHERE ${conditions.join(
    ' AND ',
  )}${forward ? ' ORDER BY message_id ASC' : ''} LIMIT ?`;

  const found: Message[] = [];
  for (const bucket of buckets) {
    const want = limit + 1 - found.length;
    if (want <= 0) break;
    const params: unknown[] = [conversationId, bucket];
    if (options.after !== undefined) params.push(options.after);
    if (options.before !== undefined) params.push(options.before);
    params.push(want);
    const rows = await readPaged(query, params, want);
    found.push(...rows.map((r) => rowToMessage(r, conversationId)));
  }
  const more = found.length > limit;
  const messages = found.slice(0, limit);
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
