import type { Receipt } from '#contracts/models.ts';
import type { ReadPointer } from '#core/ports.ts';
import { consistency, lwt, read } from './client.ts';

/**
 * Read pointers: per (conversation, member) the last message read and its seq. They only move forward (by
 * seq, so unread = conversations.last_seq − last_read_seq never grows back), with compare-and-set so two
 * devices marking at once cannot move a pointer backward.
 */

const quorumRead = { consistency: consistency.write };
const MAX_CAS_ATTEMPTS = 8;

const toNumber = (v: unknown): number => {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  return Number(String(v));
};

/** A member's read pointer, or null when they have read nothing yet. */
export async function getReadPointer(conversationId: string, userId: string): Promise<ReadPointer | null> {
  const rs = await read(
    'SELECT last_read_id, last_read_seq, read_at FROM read_pointers WHERE conversation_id = ? AND user_id = ?',
    [conversationId, userId],
    quorumRead,
  );
  const r = rs.first();
  if (!r?.last_read_id) return null;
  return {
    lastReadId: r.last_read_id as string,
    lastReadSeq: toNumber(r.last_read_seq),
    readAt: ((r.read_at as Date | null) ?? new Date(0)).toISOString(),
  };
}

/**
 * Moves the pointer to `to` when `to.lastReadSeq` is ahead of it. Returns whether it moved and the pointer as
 * it now stands.
 */
export async function advanceReadPointer(
  conversationId: string,
  userId: string,
  to: ReadPointer,
): Promise<{ advanced: boolean; pointer: ReadPointer }> {
  for (let attempt = 1; attempt <= MAX_CAS_ATTEMPTS; attempt++) {
    const current = await read(
      'SELECT last_read_id, last_read_seq, read_at FROM read_pointers WHERE conversation_id = ? AND user_id = ?',
      [conversationId, userId],
      quorumRead,
    );
    const row = current.first();
    if (row && toNumber(row.last_read_seq) >= to.lastReadSeq && row.last_read_id) {
      return {
        advanced: false,
        pointer: {
          lastReadId: row.last_read_id as string,
          lastReadSeq: toNumber(row.last_read_seq),
          readAt: ((row.read_at as Date | null) ?? new Date(0)).toISOString(),
        },
      };
    }
    const params = [to.lastReadId, to.lastReadSeq, new Date(to.readAt), conversationId, userId];
    const { applied } = row
      ? await lwt(
          'UPDATE read_pointers SET last_read_id = ?, last_read_seq = ?, read_at = ? WHERE conversation_id = ? AND user_id = ? IF last_read_seq = ?',
          [...params, row.last_read_seq ?? null],
        )
      : await lwt(
          'INSERT INTO read_pointers (last_read_id, last_read_seq, read_at, conversation_id, user_id) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS',
          params,
        );
    if (applied) return { advanced: true, pointer: to };
  }
  throw new Error(`read pointer of ${userId} in ${conversationId}: too much contention`);
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
