import { mapLimit } from '@chat/kit/async';
import type { ChangeRecord } from '#contracts/kafka.ts';
import { limits } from '#contracts/limits.ts';
import type { Message } from '#contracts/models.ts';
import type { AckEvent, MessageUpdatedEvent, ReactionEvent } from '#contracts/ws.ts';
import { ChatError } from './errors.ts';
import type { Actor } from './messaging.ts';
import { checkBody } from './messaging.ts';
import type { InboundChange, RealtimePorts, RemovedConnection, ReplyTarget } from './ports.ts';
import { announceGone } from './presence.ts';

/**
 * Edit, delete and react: the send side (validate, authorize against the stored message, dedupe the
 * clientMsgId, publish a change record keyed by conversation, ack) and the Kafka side's fan-out of the applied
 * changes (`messageUpdated`, `reaction`). docs/adr/0008-message-changes.md.
 */

/**
 * The clientMsgId claim of a change lives beside the sends' claims under its own name, so a change never
 * collides with a send that happens to reuse the clientMsgId.
 */
export const changeClaimId = (clientMsgId: string): string => `~change:${clientMsgId}`;

type ChangeInput = { conversationId: string; messageId: string; clientMsgId: string };

/** Member check, then the target: unknown ⇒ `not_found`. */
async function target(ports: RealtimePorts, actor: Actor, input: ChangeInput): Promise<ReplyTarget> {
  if (!(await ports.isMember(input.conversationId, actor.userId))) throw new ChatError('not_member');
  const found = await ports.messageTarget(input.conversationId, input.messageId);
  if (!found) throw new ChatError('not_found', 'No such message in this conversation.');
  return found;
}

const deletedError = () => new ChatError('not_found', 'The message was deleted.');

/**
 * Publishes a change once per (actor, clientMsgId): a resend acks again without publishing while an earlier
 * attempt is known to have been published (the claim, as for sends); the change id is the claim's.
 */
async function publishChange(
  ports: RealtimePorts,
  actor: Actor,
  input: ChangeInput,
  build: (fields: {
    v: 1;
    changeId: string;
    conversationId: string;
    messageId: string;
    actorId: string;
    clientMsgId: string;
    at: string;
  }) => ChangeRecord,
): Promise<AckEvent> {
  const now = ports.now();
  const claimId = changeClaimId(input.clientMsgId);
  const claim = await ports.claimClientMsgId(input.conversationId, actor.userId, claimId, ports.newId(now));
  const ack: AckEvent = {
    type: 'ack',
    clientMsgId: input.clientMsgId,
    messageId: input.messageId,
    conversationId: input.conversationId,
  };
  if (claim.published) return ack;
  await ports.publish(
    build({
      v: 1,
      changeId: claim.messageId,
      conversationId: input.conversationId,
      messageId: input.messageId,
      actorId: actor.userId,
      clientMsgId: input.clientMsgId,
      at: new Date(now).toISOString(),
    }),
  );
  void ports
    .markPublished(input.conversationId, actor.userId, claimId, claim.messageId)
    .catch((error: unknown) =>
      ports.log.warn('change: recording the publish failed; a resend will publish it again', {
        conversationId: input.conversationId,
        messageId: input.messageId,
        error,
      }),
    );
  return ack;
}

/** `editMessage`: the author replaces the body (body rules as for sends); a deleted message is `not_found`. */
export async function editMessage(
  ports: RealtimePorts,
  actor: Actor,
  input: ChangeInput & { body: string },
): Promise<AckEvent> {
  checkBody(input.body);
  const found = await target(ports, actor, input);
  if (found.senderId !== actor.userId)
    throw new ChatError('forbidden', 'Only the author can edit a message.');
  if (found.deleted) throw deletedError();
  return publishChange(ports, actor, input, (f) => ({ type: 'message.edited', ...f, body: input.body }));
}

/** `deleteMessage`: the author deletes; deleting a deleted message acks (nothing is published). */
export async function deleteMessage(
  ports: RealtimePorts,
  actor: Actor,
  input: ChangeInput,
): Promise<AckEvent> {
  const found = await target(ports, actor, input);
  if (found.senderId !== actor.userId)
    throw new ChatError('forbidden', 'Only the author can delete a message.');
  if (found.deleted) {
    return {
      type: 'ack',
      clientMsgId: input.clientMsgId,
      messageId: input.messageId,
      conversationId: input.conversationId,
    };
  }
  return publishChange(ports, actor, input, (f) => ({ type: 'message.deleted', ...f }));
}

/**
 * `react`: any member adds or removes their reaction with one emoji (validated by the frame schema). A new
 * distinct emoji beyond `limits.reactionEmojiPerMessageMax` is `too_many_reactions` (persist re-checks it).
 */
export async function react(
  ports: RealtimePorts,
  actor: Actor,
  input: ChangeInput & { emoji: string; add: boolean },
): Promise<AckEvent> {
  const found = await target(ports, actor, input);
  if (found.deleted) throw deletedError();
  if (input.add) {
    const emojis = await ports.reactionEmojis(input.conversationId, input.messageId);
    if (!emojis.includes(input.emoji) && emojis.length >= limits.reactionEmojiPerMessageMax) {
      throw new ChatError(
        'too_many_reactions',
        `A message has at most ${limits.reactionEmojiPerMessageMax} distinct reactions.`,
      );
    }
  }
  return publishChange(ports, actor, input, (f) => ({
    type: 'reaction.changed',
    ...f,
    emoji: input.emoji,
    add: input.add,
  }));
}

export interface ChangesFanOutResult {
  readonly applied: number;
  readonly redelivered: number;
  readonly refused: number;
  readonly alreadyPushed: number;
  readonly delivered: number;
  readonly failed: number;
  readonly gone: number;
}

/**
 * The events of a conversation's changes, in log order: one `reaction` per reaction change, and one
 * `messageUpdated` per edited or deleted message (the whole message as it now is, at the place of its last
 * change in the batch).
 */
export function changeEvents(
  changes: readonly ChangeRecord[],
  messages: ReadonlyMap<string, Message>,
): (MessageUpdatedEvent | ReactionEvent)[] {
  const lastUpdate = new Map<string, number>();
  changes.forEach((c, i) => {
    if (c.type !== 'reaction.changed') lastUpdate.set(c.messageId, i);
  });
  const events: (MessageUpdatedEvent | ReactionEvent)[] = [];
  changes.forEach((c, i) => {
    if (c.type === 'reaction.changed') {
      events.push({
        type: 'reaction',
        conversationId: c.conversationId,
        messageId: c.messageId,
        userId: c.actorId,
        emoji: c.emoji,
        add: c.add,
      });
      return;
    }
    const message = messages.get(c.messageId);
    if (lastUpdate.get(c.messageId) === i && message) events.push({ type: 'messageUpdated', message });
  });
  return events;
}

/**
 * The Kafka consumer's work for a batch's changes: per conversation (in parallel, bounded), apply them
 * idempotently in log order (`applyChanges`), then push their events to every member's connections, the actor's
 * included. Changes an earlier attempt applied are pushed again only when their push marker is missing; each
 * pushed change is marked. A store failure rejects (the batch is retried); pushes never do.
 */
export async function applyAndFanOutChanges(
  ports: RealtimePorts,
  changes: readonly InboundChange[],
  options: { concurrency?: number; pushDeadline?: number } = {},
): Promise<ChangesFanOutResult> {
  const deadline = options.pushDeadline;
  const bounded: RealtimePorts =
    deadline === undefined
      ? ports
      : { ...ports, pushToUsers: (u, e, o) => ports.pushToUsers(u, e, { ...o, deadline }) };
  const byConversation = new Map<string, InboundChange[]>();
  for (const c of changes) {
    const list = byConversation.get(c.change.conversationId);
    if (list) list.push(c);
    else byConversation.set(c.change.conversationId, [c]);
  }
  let applied = 0;
  let redelivered = 0;
  let refused = 0;
  let alreadyPushed = 0;
  let delivered = 0;
  let failed = 0;
  const gone: RemovedConnection[] = [];
  await mapLimit([...byConversation], options.concurrency ?? 8, async ([conversationId, list]) => {
    const result = await ports.applyChanges(conversationId, list);
    applied += result.effective.length;
    redelivered += result.redelivered.length;
    refused += result.refused.length;
    if (result.refused.length > 0) {
      ports.log.warn('persist: refused changes', {
        conversationId,
        changes: result.refused.map((r) => ({
          changeId: r.change.changeId,
          type: r.change.type,
          reason: r.reason,
        })),
      });
    }
    const pushed =
      result.redelivered.length > 0
        ? await ports.pushedAlready(
            conversationId,
            result.redelivered.map((c) => c.changeId),
          )
        : new Set<string>();
    const toPush = [...result.redelivered.filter((c) => !pushed.has(c.changeId)), ...result.effective];
    alreadyPushed += result.redelivered.length - (toPush.length - result.effective.length);
    if (toPush.length === 0) return;
    // An edited message keeps its attachments: their download URLs are signed for this push, as for `message`.
    const messages =
      ports.attachments && [...result.messages.values()].some((m) => (m.attachments?.length ?? 0) > 0)
        ? new Map((await ports.attachments.withUrls([...result.messages.values()])).map((m) => [m.id, m]))
        : result.messages;
    const events = changeEvents(toPush, messages);
    const push = await bounded.pushToUsers(result.members, events);
    delivered += push.delivered;
    failed += push.failed;
    gone.push(...push.gone);
    await ports.markPushed(
      conversationId,
      toPush.map((c) => c.changeId),
    );
  });
  await announceGone(bounded, gone);
  return { applied, redelivered, refused, alreadyPushed, delivered, failed, gone: gone.length };
}
