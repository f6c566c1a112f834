import cassandra from 'cassandra-driver';
import type { Receipt } from '#contracts/models.ts';
import { bucketOf } from '#core/ids.ts';
import type { ReadPointer } from '#core/ports.ts';
import { consistency, read, type Statement, write } from './client.ts';

/**
 * Read pointers: per (conversation, member) the last message read and its seq. They only move forward (by
 * seq, so unread = conversations.last_seq − last_read_seq never grows back), as a max-register without a
 * lightweight transaction: every write is `USING TIMESTAMP` a time that grows with the seq
 * (docs/adr/0006-persist-without-paxos.md). Persist writes a sender's pointer at the seq clock's T(s) of their
 * message; `advanceReadPointer` (markRead) writes at max(T(s), the current cell's time + the seq distance,
 * yesterday's midnight + s): above anything written for a lower seq, and inside Amazon Keyspaces' accepted
 * window (2 days back, 5 minutes ahead) however old the message is.
 */

const quorumRead = { consistency: consistency.write };
const DAY_US = 86_400_000_000n;

const toNumber = (v: unknown): number => {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  return Number(String(v));
};

/** A bigint from the driver's Long (WRITETIME, bigint columns), 0n for null. */
export const toBigInt = (v: unknown): bigint => (v === null || v === undefined ? 0n : BigInt(String(v)));

/** A driver Long from a bigint (a microsecond timestamp exceeds a double's exact range). */
export const long = (v: bigint): cassandra.types.Long => cassandra.types.Long.fromString(v.toString());

/** The pointer's max-register write at `time` (µs). The only statement that writes a read pointer. */
export const readPointerStatement = (
  conversationId: string,
  userId: string,
  time: bigint,
  to: ReadPointer,
): Statement => ({
  query:
    'UPDATE read_pointers USING TIMESTAMP ? SET last_read_id = ?, last_read_seq = ?, read_at = ? WHERE conversation_id = ? AND user_id = ?',
  params: [long(time), to.lastReadId, to.lastReadSeq, new Date(to.readAt), conversationId, userId],
  partition: `read_pointers:${conversationId}`,
});

export async function writeReadPointer(
  conversationId: string,
  userId: string,
  time: bigint,
  to: ReadPointer,
): Promise<void> {
  const s = readPointerStatement(conversationId, userId, time, to);
  await write(s.query, s.params);
}

async function pointerRow(conversationId: string, userId: string) {
  const rs = await read(
    'SELECT last_read_id, last_read_seq, read_at, WRITETIME(last_read_seq) AS seq_time FROM read_pointers WHERE conversation_id = ? AND user_id = ?',
    [conversationId, userId],
    quorumRead,
  );
  const r = rs.first();
  if (!r?.last_read_id) return null;
  return {
    pointer: {
      lastReadId: r.last_read_id as string,
      lastReadSeq: toNumber(r.last_read_seq),
      readAt: ((r.read_at as Date | null) ?? new Date(0)).toISOString(),
    } satisfies ReadPointer,
    time: toBigInt(r.seq_time),
  };
}

/** A member's read pointer, or null when they have read nothing yet. */
export async function getReadPointer(conversationId: string, userId: string): Promise<ReadPointer | null> {
  return (await pointerRow(conversationId, userId))?.pointer ?? null;
}

/**
 * Moves the pointer to `to` when `to.lastReadSeq` is ahead of it (else leaves it). Returns whether this call
 * wrote it and the pointer as it now stands. Two devices at once: the higher seq wins whatever the order.
 */
export async function advanceReadPointer(
  conversationId: string,
  userId: string,
  to: ReadPointer,
  now: number = Date.now(),
): Promise<{ advanced: boolean; pointer: ReadPointer }> {
  const [current, message] = await Promise.all([
    pointerRow(conversationId, userId),
    read(
      'SELECT WRITETIME(seq) AS seq_time FROM messages WHERE conversation_id = ? AND bucket = ? AND message_id = ?',
      [conversationId, bucketOf(to.lastReadId), to.lastReadId],
      quorumRead,
    ),
  ]);
  if (current && current.pointer.lastReadSeq >= to.lastReadSeq) {
    return { advanced: false, pointer: current.pointer };
  }
  const messageTime = toBigInt(message.first()?.seq_time);
  const seq = BigInt(to.lastReadSeq);
  const yesterday = ((BigInt(Math.trunc(now)) * 1000n) / DAY_US) * DAY_US - DAY_US;
  let time = yesterday + seq;
  if (messageTime > time) time = messageTime;
  if (current) {
    const above = current.time + (seq - BigInt(current.pointer.lastReadSeq));
    if (above > time) time = above;
  }
  await writeReadPointer(conversationId, userId, time, to);
  return { advanced: true, pointer: to };
}

/** Every member's read pointer in a conversation (members who read nothing yet are absent). */
export async function listReceipts(conversationId: string): Promise<Receipt[]> {
  const receipts: Receipt[] = [];
  let pageState: string | undefined;
  do {
    const rs = await read(
      'SELECT user_id, last_read_id, read_at FROM read_pointers WHERE conversation_id = ?',
      [conversationId],
      { fetchSize: 1000, ...(pageState ? { pageState } : {}) },
    );
    for (const r of rs.rows) {
      if (!r.last_read_id) continue;
      receipts.push({
        userId: r.user_id as string,
        lastReadId: r.last_read_id as string,
        readAt: ((r.read_at as Date | null) ?? new Date(0)).toISOString(),
      });
    }
    pageState = rs.pageState ?? undefined;
  } while (pageState);
  return receipts;
}
