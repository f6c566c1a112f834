import type { ChangeRecord } from '#contracts/kafka.ts';
import { limits } from '#contracts/limits.ts';
import type { Message, Reaction, ReplyRef } from '#contracts/models.ts';
import type { InboundChange, RefusedReason, ReplyTarget } from './ports.ts';

export type { RefusedReason, ReplyTarget } from './ports.ts';

/**
 * Changes to stored messages (edit, delete, reaction), the pure part: which changes of a Kafka batch an earlier
 * attempt already applied, the write times that keep them in log order, what each change does to the message's
 * state (authorship, delete is final, reactions as sets, the distinct-emoji cap), and how a stored message with
 * its reactions and reply is presented. The store adapter (adapters/cql/message-changes.ts) reads the state,
 * calls these and writes the plan; docs/adr/0008-message-changes.md has the argument.
 */

/** A message's stored state as persist needs it to apply changes. */
export interface TargetState {
  readonly senderId: string;
  readonly deleted: boolean;
  /** Active reactions: emoji → user ids (insertion order = first use). */
  readonly reactions: ReadonlyMap<string, ReadonlySet<string>>;
}

/** One write of the plan, at `time` (µs, the change clock). */
export type ChangeOp =
  | {
      readonly kind: 'edit';
      readonly messageId: string;
      readonly body: string;
      readonly editedAt: string;
      readonly time: bigint;
    }
  | { readonly kind: 'delete'; readonly messageId: string; readonly deletedAt: string; readonly time: bigint }
  | {
      readonly kind: 'react';
      readonly messageId: string;
      readonly emoji: string;
      readonly userId: string;
      readonly add: boolean;
      readonly time: bigint;
    };

export interface ChangePlan {
  readonly ops: readonly ChangeOp[];
  /** Changes that changed a message's state (each has one op), in log order. */
  readonly effective: readonly ChangeRecord[];
  /** Changes that changed nothing (an add already there, a remove of nothing, a second delete). */
  readonly noops: readonly ChangeRecord[];
  readonly refused: readonly { readonly change: ChangeRecord; readonly reason: RefusedReason }[];
  /** The targets' state after the plan. */
  readonly targets: ReadonlyMap<string, TargetState>;
}

/** The conversation's change mark: the last change applied (its log position and write time, µs). */
export interface ChangeMark {
  readonly partition: number;
  readonly offset: number;
  readonly time: bigint;
}

const micros = (c: InboundChange): bigint =>
  BigInt(Math.trunc(c.producedAt ?? Date.parse(c.change.at))) * 1000n;

/**
 * Whether an earlier attempt fully applied this change: it sits at or below the mark in the mark's partition
 * and its timestamp is not after the mark's time (every applied change's write time is at least its record's
 * timestamp, so a record newer than the mark, e.g. from a recreated topic whose offsets restarted, is not).
 */
export function isApplied(c: InboundChange, mark: ChangeMark | null): boolean {
  if (!mark || c.partition === undefined || c.offset === undefined) return false;
  return c.partition === mark.partition && c.offset <= mark.offset && micros(c) <= mark.time;
}

/**
 * The change clock: the write time (µs) of each pending change, strictly increasing in log order, starting
 * after the mark's time, never before the record's own timestamp, and after the target row's original write
 * time (`rowTimes`, so an edit always beats the row's first write whatever the producers' clocks). It depends on
 * the mark, the log and the stored rows only, so an interrupted attempt that is retried (the mark not yet
 * written) writes the same cells with the same times: nothing changes twice. Records with no position fall
 * back to their send time (tests and tools).
 */
export function changeClock(
  pending: readonly InboundChange[],
  mark: ChangeMark | null,
  rowTimes: ReadonlyMap<string, bigint>,
): bigint[] {
  let previous = mark?.time ?? 0n;
  return pending.map((c) => {
    let t = previous + 1n;
    const own = micros(c);
    if (own > t) t = own;
    const row = rowTimes.get(c.change.messageId);
    if (row !== undefined && row + 1n > t) t = row + 1n;
    previous = t;
    return t;
  });
}

/**
 * Applies pending changes, in log order, to the targets' state. Authorization is checked again here against the
 * stored row (the record names its actor; a forged or stale record cannot edit another's message): edit and
 * delete by the author only, reactions by members only. A delete is final: a later edit, reaction or delete of
 * a deleted message changes nothing.
 */
export function planChanges(
  pending: readonly InboundChange[],
  times: readonly bigint[],
  targets: ReadonlyMap<string, TargetState>,
  members: ReadonlySet<string>,
): ChangePlan {
  const state = new Map<
    string,
    { senderId: string; deleted: boolean; reactions: Map<string, Set<string>> }
  >();
  for (const [id, t] of targets) {
    state.set(id, {
      senderId: t.senderId,
      deleted: t.deleted,
      reactions: new Map([...t.reactions].map(([e, users]) => [e, new Set(users)])),
    });
  }
  const ops: ChangeOp[] = [];
  const effective: ChangeRecord[] = [];
  const noops: ChangeRecord[] = [];
  const refused: { change: ChangeRecord; reason: RefusedReason }[] = [];
  const step = (c: ChangeRecord, time: bigint): ChangeOp | RefusedReason | 'noop' => {
    const target = state.get(c.messageId);
    if (!target) return 'not_found';
    if (!members.has(c.actorId)) return 'not_member';
    switch (c.type) {
      case 'message.edited':
        if (target.senderId !== c.actorId) return 'forbidden';
        if (target.deleted) return 'deleted';
        return { kind: 'edit', messageId: c.messageId, body: c.body, editedAt: c.at, time };
      case 'message.deleted':
        if (target.senderId !== c.actorId) return 'forbidden';
        if (target.deleted) return 'noop';
        target.deleted = true;
        return { kind: 'delete', messageId: c.messageId, deletedAt: c.at, time };
      case 'reaction.changed': {
        if (target.deleted) return 'deleted';
        const users = target.reactions.get(c.emoji);
        if ((users?.has(c.actorId) ?? false) === c.add) return 'noop';
        if (c.add && !users && target.reactions.size >= limits.reactionEmojiPerMessageMax) {
          return 'too_many_reactions';
        }
        if (c.add) {
          if (users) users.add(c.actorId);
          else target.reactions.set(c.emoji, new Set([c.actorId]));
        } else if (users) {
          users.delete(c.actorId);
          if (users.size === 0) target.reactions.delete(c.emoji);
        }
        return { kind: 'react', messageId: c.messageId, emoji: c.emoji, userId: c.actorId, add: c.add, time };
      }
    }
  };
  pending.forEach(({ change }, i) => {
    const outcome = step(change, times[i] ?? 0n);
    if (outcome === 'noop') noops.push(change);
    else if (typeof outcome === 'string') refused.push({ change, reason: outcome });
    else {
      ops.push(outcome);
      effective.push(change);
    }
  });
  return { ops, effective, noops, refused, targets: state };
}

/** One stored reaction cell: (emoji, user) with its state and write time (µs). */
export interface ReactionCell {
  readonly emoji: string;
  readonly userId: string;
  readonly active: boolean;
  readonly time: bigint;
}

/**
 * A message's reactions as the protocol shows them: active cells grouped by emoji, emoji in the order of their
 * earliest active cell, users likewise (the first `limits.reactionUsersListed` listed, `count` exact);
 * undefined when there are none.
 */
export function summarizeReactions(cells: readonly ReactionCell[]): Reaction[] | undefined {
  const byEmoji = new Map<string, { first: bigint; users: { userId: string; time: bigint }[] }>();
  for (const c of cells) {
    if (!c.active) continue;
    const entry = byEmoji.get(c.emoji) ?? { first: c.time, users: [] };
    if (c.time < entry.first) entry.first = c.time;
    entry.users.push({ userId: c.userId, time: c.time });
    byEmoji.set(c.emoji, entry);
  }
  if (byEmoji.size === 0) return undefined;
  const order = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
  return [...byEmoji]
    .sort(([ea, a], [eb, b]) => order(a.first, b.first) || (ea < eb ? -1 : ea > eb ? 1 : 0))
    .map(([emoji, { users }]) => ({
      emoji,
      count: users.length,
      userIds: users
        .sort((a, b) => order(a.time, b.time) || (a.userId < b.userId ? -1 : 1))
        .slice(0, limits.reactionUsersListed)
        .map((u) => u.userId),
    }));
}

/** The first `limits.replySnippetMaxChars` UTF-16 units of a body, never splitting a surrogate pair. */
export function snippetOf(body: string): string {
  let out = '';
  for (const ch of body) {
    if (out.length + ch.length > limits.replySnippetMaxChars) break;
    out += ch;
  }
  return out;
}

/** A stored message as persist and history read it: the row, before reactions and the reply are attached. */
export interface MessageRow {
  /** id, conversation, sender, clientMsgId, body, sentAt (as stored). */
  readonly message: Message;
  readonly editedAt?: string | undefined;
  readonly deletedAt?: string | undefined;
  readonly replyToId?: string | undefined;
  /** The replied-to message's sender, stored with the reply (so a reply never loses it). */
  readonly replyToSenderId?: string | undefined;
}

export const replyRef = (t: ReplyTarget): ReplyRef => ({
  id: t.id,
  senderId: t.senderId,
  snippet: t.deleted ? '' : snippetOf(t.body),
});

/**
 * A message as the protocol shows it now. Deleted: body "", only id, conversation, sender, clientMsgId, sentAt
 * and deletedAt (no edit time, reply, reactions, nor attachments: whatever a message carries besides these is
 * dropped here). A reply whose original is gone from the store keeps its id with an empty snippet.
 */
export function presentMessage(
  row: MessageRow,
  reactions: readonly ReactionCell[],
  reply: ReplyTarget | null,
): Message {
  const { editedAt: _e, deletedAt: _d, replyTo: _r, reactions: _x, ...m } = row.message;
  const base: Message = {
    id: m.id,
    conversationId: m.conversationId,
    senderId: m.senderId,
    clientMsgId: m.clientMsgId,
    body: m.body,
    sentAt: m.sentAt,
  };
  if (row.deletedAt !== undefined) return { ...base, body: '', deletedAt: row.deletedAt };
  const summary = summarizeReactions(reactions);
  const replyTo =
    row.replyToId === undefined
      ? undefined
      : reply
        ? replyRef(reply)
        : row.replyToSenderId
          ? { id: row.replyToId, senderId: row.replyToSenderId, snippet: '' }
          : undefined;
  return {
    ...m,
    ...(row.editedAt !== undefined ? { editedAt: row.editedAt } : {}),
    ...(replyTo ? { replyTo } : {}),
    ...(summary ? { reactions: summary } : {}),
  };
}
