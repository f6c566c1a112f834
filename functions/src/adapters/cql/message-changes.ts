import { mapLimit } from '@chat/kit/async';
import type { Message } from '#contracts/models.ts';
import {
  type ChangeMark,
  type ChangeOp,
  changeClock,
  isApplied,
  type MessageRow,
  planChanges,
  type ReactionCell,
  type TargetState,
} from '#core/changes.ts';
import { bucketOf } from '#core/ids.ts';
import type { ChangesResult, InboundChange } from '#core/ports.ts';
import { logger } from '#platform/log.ts';
import { consistency, read, write } from './client.ts';
import { encodeLastMessage, membersOf } from './conversations.ts';
import { byBucket, CHANGE_COLUMNS, present, readReactions, rowToMessageRow } from './message-view.ts';
import { rowToMessage } from './messages.ts';
import { long, toBigInt } from './read-pointers.ts';

/**
 * Applies a conversation's changes of a Kafka batch (edit, delete, reaction) idempotently, in log order,
 * without lightweight transactions (docs/adr/0008-message-changes.md):
 *
 * 1. One read of the conversation: its change mark (`change_partition`, `change_offset`, and the mark's time:
 *    WRITETIME(change_offset)), `last_message_id` and WRITETIME(last_seq), `members_version`. Changes at or
 *    below the mark were applied by an earlier attempt: nothing is written for them again (they are only
 *    pushed, unless their push marker says they were).
 * 2. The target rows (sender, deleted, the row's original write time) and their reaction cells, at
 *    LOCAL_QUORUM; the pure plan (core/changes.ts) re-checks authorship against the stored row and membership,
 *    keeps a delete final, treats reactions as sets, and caps distinct emoji.
 * 3. Each op is one cell write `USING TIMESTAMP` its change-clock time (strictly increasing in log order): the
 *    later change wins whatever order the writes land in, and a retried attempt (mark not written) writes the
 *    same cells with the same times. Then, if the conversation's last message was edited or deleted, its
 *    `last_message` (with `last_seq` unchanged) just above the seq clock's time; then the mark.
 * Throws when the store fails: the whole batch is retried.
 */

const CONCURRENCY = 16;
const quorumRead = { consistency: consistency.write };

interface ChangeState {
  readonly mark: ChangeMark | null;
  /** The mark's time even when its position is unusable (the clock never goes below it). */
  readonly markTime: bigint;
  readonly lastSeq: number;
  readonly lastSeqTime: bigint;
  readonly lastMessageId: string | null;
  readonly membersVersion: string;
}

async function changeState(conversationId: string): Promise<ChangeState | null> {
  const rs = await read(
    'SELECT change_partition, change_offset, WRITETIME(change_offset) AS change_time, last_seq, WRITETIME(last_seq) AS seq_time, last_message_id, members_version FROM conversations WHERE conversation_id = ?',
    [conversationId],
    quorumRead,
  );
  const r = rs.first();
  if (!r) return null;
  const markTime = toBigInt(r.change_time);
  const positioned = r.change_partition !== null && r.change_offset !== null && r.change_offset !== undefined;
  return {
    mark: positioned
      ? { partition: r.change_partition as number, offset: Number(String(r.change_offset)), time: markTime }
      : null,
    markTime,
    lastSeq: r.last_seq === null || r.last_seq === undefined ? 0 : Number(String(r.last_seq)),
    lastSeqTime: toBigInt(r.seq_time),
    lastMessageId: (r.last_message_id as string | null) ?? null,
    membersVersion: String(r.members_version ?? 'none'),
  };
}

/** Stored rows of message ids with WRITETIME(seq) (the row's original write time, µs), by id. */
async function readRows(
  conversationId: string,
  ids: Iterable<string>,
): Promise<Map<string, { row: MessageRow; rowTime: bigint }>> {
  const out = new Map<string, { row: MessageRow; rowTime: bigint }>();
  await mapLimit(byBucket(ids), CONCURRENCY, async ([bucket, part]) => {
    const rs = await read(
      `SELECT message_id, sender_id, client_msg_id, body, sent_at, attachments, mentions, ${CHANGE_COLUMNS}, WRITETIME(seq) AS row_time FROM messages WHERE conversation_id = ? AND bucket = ? AND message_id IN ?`,
      [conversationId, bucket, part],
      quorumRead,
    );
    for (const r of rs.rows) {
      const row = rowToMessageRow(r, rowToMessage(r, conversationId));
      out.set(r.message_id as string, { row, rowTime: toBigInt(r.row_time) });
    }
  });
  return out;
}

function opStatement(conversationId: string, op: ChangeOp): { query: string; params: unknown[] } {
  const key = [conversationId, bucketOf(op.messageId), op.messageId];
  switch (op.kind) {
    case 'edit':
      return {
        query:
          'UPDATE messages USING TIMESTAMP ? SET body = ?, edited_at = ? WHERE conversation_id = ? AND bucket = ? AND message_id = ?',
        params: [long(op.time), op.body, new Date(op.editedAt), ...key],
      };
    case 'delete':
      // The body is erased, not only hidden. (Issue 14's attachments: a delete also drops the message's
      // attachment references here.)
      return {
        query:
          "UPDATE messages USING TIMESTAMP ? SET body = '', deleted_at = ? WHERE conversation_id = ? AND bucket = ? AND message_id = ?",
        params: [long(op.time), new Date(op.deletedAt), ...key],
      };
    case 'react':
      return {
        query:
          'UPDATE message_reactions USING TIMESTAMP ? SET active = ? WHERE conversation_id = ? AND bucket = ? AND message_id = ? AND emoji = ? AND user_id = ?',
        params: [long(op.time), op.add, ...key, op.emoji, op.userId],
      };
  }
}

/** The rows and cells after the ops (in memory: what a read after the writes returns). */
function applyOps(
  rows: Map<string, MessageRow>,
  cells: Map<string, ReactionCell[]>,
  ops: readonly ChangeOp[],
): void {
  for (const op of ops) {
    const row = rows.get(op.messageId);
    if (!row) continue;
    if (op.kind === 'edit')
      rows.set(op.messageId, { ...row, message: { ...row.message, body: op.body }, editedAt: op.editedAt });
    else if (op.kind === 'delete')
      rows.set(op.messageId, { ...row, message: { ...row.message, body: '' }, deletedAt: op.deletedAt });
    else {
      const list = (cells.get(op.messageId) ?? []).filter(
        (c) => !(c.emoji === op.emoji && c.userId === op.userId),
      );
      list.push({ emoji: op.emoji, userId: op.userId, active: op.add, time: op.time });
      cells.set(op.messageId, list);
    }
  }
}

export async function applyChanges(
  conversationId: string,
  changes: readonly InboundChange[],
): Promise<ChangesResult> {
  const state = await changeState(conversationId);
  const members = state ? await membersOf(conversationId, state.membersVersion) : [];
  const mark = state?.mark ?? null;
  const applied = changes.filter((c) => isApplied(c, mark));
  const pending = changes.filter((c) => !isApplied(c, mark));
  const ids = new Set(changes.map((c) => c.change.messageId));
  const [stored, cells] = await Promise.all([
    readRows(conversationId, ids),
    readReactions(conversationId, ids, { quorum: true }),
  ]);

  const targets = new Map<string, TargetState>();
  const rowTimes = new Map<string, bigint>();
  for (const [id, { row, rowTime }] of stored) {
    const reactions = new Map<string, Set<string>>();
    for (const c of [...(cells.get(id) ?? [])].sort((a, b) =>
      a.time < b.time ? -1 : a.time > b.time ? 1 : 0,
    )) {
      if (!c.active) continue;
      const users = reactions.get(c.emoji) ?? new Set<string>();
      users.add(c.userId);
      reactions.set(c.emoji, users);
    }
    targets.set(id, { senderId: row.message.senderId, deleted: row.deletedAt !== undefined, reactions });
    rowTimes.set(id, rowTime);
  }
  const floor: ChangeMark | null =
    mark ?? (state && state.markTime > 0n ? { partition: -1, offset: -1, time: state.markTime } : null);
  const times = changeClock(pending, floor, rowTimes);
  const plan = planChanges(pending, times, targets, new Set(members));

  await mapLimit(plan.ops, CONCURRENCY, (op) => {
    const s = opStatement(conversationId, op);
    return write(s.query, s.params);
  });

  const rows = new Map([...stored].map(([id, v]) => [id, v.row]));
  applyOps(rows, cells, plan.ops);
  const current = await present(conversationId, [...rows.values()], cells);
  const messages = new Map<string, Message>(current.map((m) => [m.id, m]));

  if (state) {
    const last = state.lastMessageId;
    if (last && plan.ops.some((op) => op.kind !== 'react' && op.messageId === last)) {
      const m = messages.get(last);
      if (m) await writeLastMessage(conversationId, state, m);
    }
    const top = times.at(-1);
    const positions = changes.map((c) => c.partition);
    const partition = positions[0];
    const samePartition =
      partition !== undefined &&
      positions.every((p) => p === partition) &&
      changes.every((c) => c.offset !== undefined);
    if (top !== undefined && samePartition) {
      const offset = Math.max(...changes.map((c) => c.offset as number));
      await write(
        'UPDATE conversations USING TIMESTAMP ? SET change_partition = ?, change_offset = ? WHERE conversation_id = ?',
        [long(top), partition, offset, conversationId],
      );
    }
  } else if (pending.length > 0) {
    logger.error('persist: changes for a conversation that does not exist', { conversationId });
  }

  return {
    members,
    redelivered: applied.map((c) => c.change),
    effective: plan.effective,
    refused: plan.refused,
    messages,
  };
}

/**
 * The conversation's `last_message` follows an edit or delete of that message: rewritten with `last_seq`
 * unchanged, 1 µs above WRITETIME(last_seq), so the next send's seq clock (which starts from that write time)
 * still writes above it, and a new last message always replaces it. No reactions are kept in it.
 */
async function writeLastMessage(conversationId: string, state: ChangeState, message: Message): Promise<void> {
  const { reactions: _r, ...preview } = message;
  await write(
    'UPDATE conversations USING TIMESTAMP ? SET last_seq = ?, last_message = ? WHERE conversation_id = ?',
    [long(state.lastSeqTime + 1n), state.lastSeq, encodeLastMessage(preview), conversationId],
  );
}
