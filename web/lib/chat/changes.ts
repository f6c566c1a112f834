import type { Message } from '@chat/functions/contracts';
import type { Outgoing } from './outbox.ts';

/**
 * Changes to messages that are already in a timeline (issue 14): live edits, deletes and reactions, and my own
 * changes still waiting in the outbox, shown over the message as if done. Pure.
 */

/** Longest reply snippet (the server's rule: ≤ 100 characters of the original as it is now). */
const SNIPPET_MAX = 100;

/**
 * Adds or removes one user's emoji. Idempotent per user and emoji: the same message object when nothing
 * changes. (`userIds` lists at most 20 people: beyond that a repeated add can not be told apart; the next
 * history page or `messageUpdated` corrects the count.)
 */
export function applyReaction(m: Message, userId: string, emoji: string, add: boolean): Message {
  const list = m.reactions ?? [];
  const r = list.find((x) => x.emoji === emoji);
  if ((r?.userIds.includes(userId) ?? false) === add) return m;
  const reactions = r
    ? list
        .map((x) =>
          x !== r
            ? x
            : add
              ? { ...x, count: x.count + 1, userIds: [...x.userIds, userId] }
              : { ...x, count: x.count - 1, userIds: x.userIds.filter((u) => u !== userId) },
        )
        .filter((x) => x.count > 0)
    : [...list, { emoji, count: 1, userIds: [userId] }];
  return { ...m, reactions };
}

/** Whether `b` is an older state of message `a` (a redelivery): a delete is final, edits only go forward. */
export function olderState(a: Message, b: Message): boolean {
  return a.deletedAt ? !b.deletedAt : (a.editedAt ?? '') > (b.editedAt ?? '');
}

/** A timeline with `updated` in place of its message (and the snippets of replies to it refreshed). */
export function replaceMessage(messages: readonly Message[], updated: Message): readonly Message[] {
  let changed = false;
  const snippet = updated.deletedAt ? '' : updated.body.slice(0, SNIPPET_MAX);
  const next = messages.map((m) => {
    if (m.id === updated.id) {
      if (m === updated || olderState(m, updated)) return m;
      changed = true;
      return updated;
    }
    if (m.replyTo?.id === updated.id && m.replyTo.snippet !== snippet) {
      changed = true;
      return { ...m, replyTo: { ...m.replyTo, snippet } };
    }
    return m;
  });
  return changed ? next : messages;
}

/** A message as it looks with my waiting changes (`ops`: the outbox's items about it, in order) done. */
export function withPending(m: Message, ops: readonly Outgoing[], myId: string): Message {
  let out = m;
  for (const o of ops) {
    if (o.status === 'failed' || out.deletedAt) continue;
    if (o.kind === 'edit') out = { ...out, body: o.body, editedAt: new Date(o.createdAt).toISOString() };
    else if (o.kind === 'delete')
      out = { ...out, body: '', deletedAt: new Date(o.createdAt).toISOString(), attachments: [] };
    else if (o.kind === 'react' && o.emoji) out = applyReaction(out, myId, o.emoji, o.add === true);
  }
  return out;
}
