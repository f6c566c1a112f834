import type { Message } from '#contracts/models.ts';
import type { InboundMessage, StoredMessage } from './ports.ts';

/**
 * The idempotent persist plan for one conversation's messages from one Kafka batch (pure: the store adapter
 * reads the state, calls this, and writes the plan).
 *
 * - A message whose row already exists (a redelivery) keeps its stored seq.
 * - A message whose (sender, clientMsgId) is already owned by another message id is a duplicate send: dropped.
 * - A message delivered twice within the batch counts once.
 * - New messages get the next seqs, after both the conversation's last_seq and any seq already stored by an
 *   earlier, interrupted attempt at this batch (those rows come first in the partition, so they are in this
 *   batch too).
 * - `lastSeq` only moves forward; unread = last_seq − last_read_seq therefore stays exact under redelivery.
 */

export interface PersistState {
  /** conversations.last_seq (0 when the conversation has no message yet). */
  readonly lastSeq: number;
  /** Stored seq of the batch's message ids whose rows already exist. */
  readonly existingSeqs: ReadonlyMap<string, number>;
  /** Stored owner message id of the batch's (sender, clientMsgId) pairs, by `clientKey`. */
  readonly clientOwners: ReadonlyMap<string, string>;
}

export interface PersistPlan {
  /** Rows to write (new and redelivered), in seq order. */
  readonly rows: readonly StoredMessage[];
  readonly duplicates: readonly Message[];
  /** The conversation's last_seq after this batch (≥ the state's). */
  readonly lastSeq: number;
  /** The message now holding `lastSeq` when it moved forward; null when last_seq stays. */
  readonly lastMessage: Message | null;
}

export const clientKey = (senderId: string, clientMsgId: string): string => `${senderId}\u0000${clientMsgId}`;

export function planPersist(messages: readonly Message[], state: PersistState): PersistPlan {
  const owners = new Map(state.clientOwners);
  const seen = new Set<string>();
  let next = state.lastSeq;
  for (const m of messages) {
    const s = state.existingSeqs.get(m.id);
    if (s !== undefined && s > next) next = s;
  }
  const rows: StoredMessage[] = [];
  const duplicates: Message[] = [];
  for (const m of messages) {
    if (seen.has(m.id)) continue;
    seen.add(m.id);
    const key = clientKey(m.senderId, m.clientMsgId);
    const existing = state.existingSeqs.get(m.id);
    if (existing !== undefined) {
      rows.push({ message: m, seq: existing, isNew: false });
      if (!owners.has(key)) owners.set(key, m.id);
      continue;
    }
    const owner = owners.get(key);
    if (owner !== undefined && owner !== m.id) {
      duplicates.push(m);
      continue;
    }
    next += 1;
    rows.push({ message: m, seq: next, isNew: true });
    owners.set(key, m.id);
  }
  rows.sort((a, b) => a.seq - b.seq);
  const top = rows.at(-1);
  const advanced = top !== undefined && top.seq > state.lastSeq;
  return {
    rows,
    duplicates,
    lastSeq: advanced ? top.seq : state.lastSeq,
    lastMessage: advanced ? top.message : null,
  };
}

/** Unread count of a member: messages after their read pointer. Never negative. */
export const unreadCount = (
  lastSeq: number | null | undefined,
  lastReadSeq: number | null | undefined,
): number => Math.max(0, (lastSeq ?? 0) - (lastReadSeq ?? 0));

/** A message with its log position when the caller has one (tests and tools may pass bare messages). */
export const toInbound = (m: Message | InboundMessage): InboundMessage =>
  'message' in m ? m : { message: m };

/**
 * The conversation's seq clock (docs/adr/0006-persist-without-paxos.md): the write timestamp, in microseconds,
 * of everything persist writes for seq `s` (the message row, the conversation's state when `s` is its
 * `last_seq`, a sender's read pointer at `s`):
 *
 *     T(s) = max(W, P, floor) + (s − lastSeq)
 *
 * where `W` is the write time of the state's `last_seq` (read with it), `P` the first new record's Kafka
 * timestamp (else its send time) and `floor` the largest T of rows found already stored. T is a function of
 * the state and the log only (two writers starting from the same state compute the same T; a writer starting
 * from a later state continues the same function), it grows by at least 1 per seq (so a write of a higher seq
 * always wins, whoever makes it and whenever), and it stays near the records' own time (Amazon Keyspaces only
 * accepts client timestamps from 2 days before to 5 minutes after its clock).
 */
export function seqClock(
  state: { readonly lastSeq: number; readonly lastSeqTime: bigint },
  firstNew: InboundMessage | undefined,
  floor = 0n,
): (seq: number) => bigint {
  const produced = firstNew
    ? BigInt(Math.trunc(firstNew.producedAt ?? Date.parse(firstNew.message.sentAt))) * 1000n
    : 0n;
  let base = state.lastSeqTime;
  if (produced > base) base = produced;
  if (floor > base) base = floor;
  return (seq) => base + BigInt(seq - state.lastSeq);
}
