import { mapLimit } from '@chat/kit/async';
import type { AckEvent, MessageEvent, Receipt, ReceiptEvent, TypingEvent } from '#contracts/index.ts';
import type { NotificationRecord } from '#contracts/kafka.ts';
import { limits } from '#contracts/limits.ts';
import type { Message, MessageTrace, ReplyRef } from '#contracts/models.ts';
import { checkSendContent } from './attachments.ts';
import { replyRef } from './changes.ts';
import { ChatError } from './errors.ts';
import { idTime } from './ids.ts';
import { findMentions, mayMention, offlineRecord } from './notifications.ts';
import { toInbound } from './persist.ts';
import type { InboundMessage, RealtimePorts, RemovedConnection } from './ports.ts';
import { announceGone } from './presence.ts';

/**
 * Messaging: send (validate, authorize, dedupe, publish, ack), typing, read pointers, and the Kafka side
 * (persist idempotently, fan out). Pure over `RealtimePorts`.
 */

/** Who acts: the user, and the connection the frame came from (absent over HTTP). */
export interface Actor {
  readonly userId: string;
  readonly connectionId?: string;
}

/** Checks a message body: not blank, at most `limits.messageBodyMaxChars` (UTF-16 units, as zod counts). */
export function checkBody(body: string): void {
  if (body.trim().length === 0) throw new ChatError('body_empty');
  if (body.length > limits.messageBodyMaxChars) {
    throw new ChatError(
      'body_too_long',
      `The message body is longer than ${limits.messageBodyMaxChars} characters.`,
    );
  }
}

/**
 * Accepts a message: published to Kafka (keyed by conversation) before the ack. The same clientMsgId again
 * acks the same message id; it is published again only while no earlier attempt is known to have been
 * published (the consumer dedupes by message id, so a second publish of one id is harmless).
 * `receivedAt`: when the frame reached the function (the record's `trace.received`; default now).
 */
export async function sendMessage(
  ports: RealtimePorts,
  actor: Actor,
  input: {
    conversationId: string;
    clientMsgId: string;
    body: string;
    attachmentIds?: readonly string[];
    replyTo?: string | undefined;
  },
  options: { receivedAt?: number } = {},
): Promise<AckEvent> {
  const received = options.receivedAt ?? ports.now();
  const attachmentIds = checkSendContent(input.body, input.attachmentIds);
  if (!(await ports.isMember(input.conversationId, actor.userId))) throw new ChatError('not_member');
  const replyTo =
    input.replyTo === undefined ? undefined : await replyTarget(ports, input.conversationId, input.replyTo);
  const candidate = ports.newId(ports.now());
  const claim = await ports.claimClientMsgId(
    input.conversationId,
    actor.userId,
    input.clientMsgId,
    candidate,
  );
  const ack: AckEvent = {
    type: 'ack',
    clientMsgId: input.clientMsgId,
    messageId: claim.messageId,
    conversationId: input.conversationId,
  };
  if (claim.published) return ack;
  const attachments = await attachFiles(
    ports,
    actor.userId,
    input.conversationId,
    attachmentIds,
    claim.messageId,
  );
  // Mentions (issue 15): only a body with an `@` costs a member lookup.
  const mentions =
    ports.memberNames && mayMention(input.body)
      ? findMentions(input.body, await ports.memberNames(input.conversationId), actor.userId)
      : [];
  const message: Message = {
    id: claim.messageId,
    conversationId: input.conversationId,
    senderId: actor.userId,
    clientMsgId: input.clientMsgId,
    body: input.body,
    sentAt: new Date(idTime(claim.messageId)).toISOString(),
    ...(attachments.length > 0 ? { attachments } : {}),
    ...(replyTo ? { replyTo } : {}),
    ...(mentions.length > 0 ? { mentions } : {}),
  };
  await ports.publish({ type: 'message.sent', v: 1, message, trace: { received } });
  // Not awaited (docs/adr/0007-send-path.md): the ack does not wait for it. It only spares a resend a second
  // produce of the same id, which the consumer would drop; if it is lost, that is all that happens.
  void ports
    .markPublished(input.conversationId, actor.userId, input.clientMsgId, claim.messageId)
    .catch((error: unknown) =>
      ports.log.warn('send: recording the publish failed; a resend will publish the same id again', {
        conversationId: input.conversationId,
        messageId: claim.messageId,
        error,
      }),
    );
  return ack;
}

/** The send's attachments checked and attached to its message id (none: nothing asked). */
async function attachFiles(
  ports: RealtimePorts,
  senderId: string,
  conversationId: string,
  ids: readonly string[],
  messageId: string,
) {
  if (ids.length === 0) return [];
  if (!ports.attachments) throw new ChatError('invalid_attachment', 'Attachments are not available here.');
  return ports.attachments.attach(conversationId, senderId, ids, messageId);
}

/** **(added, issue 14)** The message a send answers, as it is now; unknown ⇒ `not_found`. */
async function replyTarget(
  ports: RealtimePorts,
  conversationId: string,
  messageId: string,
): Promise<ReplyRef> {
  const found = await ports.messageTarget(conversationId, messageId);
  if (!found) throw new ChatError('not_found', 'replyTo: no such message in this conversation.');
  return replyRef(found);
}

/**
 * Forwards a typing indicator to the other members' connections (never stored). Over
 * `limits.typingPerSecond` per connection and conversation, extra frames are dropped silently.
 * Returns whether it was forwarded.
 */
export async function typing(
  ports: RealtimePorts,
  actor: Actor & { connectionId: string },
  input: { conversationId: string; state: 'start' | 'stop' },
): Promise<boolean> {
  const members = await ports.memberIds(input.conversationId);
  if (!members.includes(actor.userId)) throw new ChatError('not_member');
  const scope = `typing:${input.conversationId}`;
  if (!(await ports.withinRate(actor.connectionId, scope, limits.typingPerSecond, ports.now()))) return false;
  const event: TypingEvent = {
    type: 'typing',
    conversationId: input.conversationId,
    userId: actor.userId,
    state: input.state,
  };
  const others = members.filter((m) => m !== actor.userId);
  const result = await ports.pushToUsers(others, event);
  await announceGone(ports, result.gone);
  return true;
}

/**
 * Moves the actor's read pointer forward to a message (never backward: an older message leaves it as it is).
 * When it moved, every member's connections but the acting one get a `receipt` (the reader's other devices
 * too). Returns the receipt as it now stands. The HTTP API (POST /conversations/{id}/read) uses it as well.
 */
export async function markRead(
  ports: RealtimePorts,
  actor: Actor,
  input: { conversationId: string; messageId: string },
): Promise<Receipt> {
  const members = await ports.memberIds(input.conversationId);
  if (!members.includes(actor.userId)) throw new ChatError('not_member');
  const seq = await ports.messageSeq(input.conversationId, input.messageId);
  if (seq === null) throw new ChatError('not_found', 'No such message in this conversation.');
  const readAt = new Date(ports.now()).toISOString();
  const { advanced, pointer } = await ports.advanceReadPointer(input.conversationId, actor.userId, {
    lastReadId: input.messageId,
    lastReadSeq: seq,
    readAt,
  });
  const receipt: Receipt = { userId: actor.userId, lastReadId: pointer.lastReadId, readAt: pointer.readAt };
  if (advanced) {
    const event: ReceiptEvent = { type: 'receipt', conversationId: input.conversationId, ...receipt };
    const result = await ports.pushToUsers(
      members,
      event,
      actor.connectionId ? { exceptConnectionId: actor.connectionId } : {},
    );
    await announceGone(ports, result.gone);
  }
  return receipt;
}

export interface FanOutResult {
  readonly stored: number;
  readonly duplicates: number;
  /** Stored messages not pushed again: an earlier attempt at this batch already did. */
  readonly alreadyPushed: number;
  readonly delivered: number;
  readonly failed: number;
  readonly gone: number;
  /** (issue 15) Notification records handed to the webPush stage (one per conversation with offline members). */
  readonly notified: number;
}

/**
 * The Kafka consumer's work for a batch of valid messages (in partition order, with their log positions when
 * known): per conversation, persist idempotently, move each sender's read pointer past their own message,
 * and push `message` events to every member's connections, the sender's included, in seq order per
 * connection, each with its hop times (`trace`). Conversations run in parallel
 * (bounded). Every push of the batch ends by `pushDeadline` (epoch ms), the presence announcements of
 * connections found gone included. A store failure rejects (the batch is retried); slow or vanished clients
 * never do.
 */
export async function persistAndFanOut(
  ports: RealtimePorts,
  messages: readonly (Message | InboundMessage)[],
  options: { concurrency?: number; pushDeadline?: number; fetchedAt?: number } = {},
): Promise<FanOutResult> {
  const fetched = options.fetchedAt ?? ports.now();
  const deadline = options.pushDeadline;
  const bounded: RealtimePorts =
    deadline === undefined
      ? ports
      : { ...ports, pushToUsers: (u, e, o) => ports.pushToUsers(u, e, { ...o, deadline }) };
  const byConversation = new Map<string, InboundMessage[]>();
  const inbound = new Map<string, InboundMessage>();
  for (const item of messages) {
    const r = toInbound(item);
    inbound.set(r.message.id, r);
    const list = byConversation.get(r.message.conversationId);
    if (list) list.push(r);
    else byConversation.set(r.message.conversationId, [r]);
  }
  const gone: RemovedConnection[] = [];
  let stored = 0;
  let duplicates = 0;
  let alreadyPushed = 0;
  let delivered = 0;
  let failed = 0;
  const notifications: NotificationRecord[] = [];
  await mapLimit([...byConversation], options.concurrency ?? 8, async ([conversationId, list]) => {
    const result = await ports.persistMessages(conversationId, list);
    stored += result.stored.length;
    duplicates += result.duplicates.length;
    if (result.duplicates.length > 0) {
      ports.log.info('persist: dropped duplicate sends', {
        conversationId,
        messageIds: result.duplicates.map((d) => d.id),
      });
    }
    if (result.stored.length === 0) return;
    // Only a row stored by an earlier attempt can have been pushed (pushes follow the store), so a batch seen
    // for the first time asks Redis nothing.
    const redelivered = result.stored.filter((s) => !s.isNew).map((s) => s.message.id);
    const pushed =
      redelivered.length > 0 ? await ports.pushedAlready(conversationId, redelivered) : new Set<string>();
    const fresh = result.stored.filter((s) => !pushed.has(s.message.id));
    alreadyPushed += result.stored.length - fresh.length;
    if (fresh.length === 0) return;
    const served = ports.attachments
      ? await ports.attachments.withUrls(fresh.map((s) => s.message))
      : fresh.map((s) => s.message);
    const pushStart = ports.now();
    const events: MessageEvent[] = fresh.map((s, i) => {
      const r = inbound.get(s.message.id);
      const trace: MessageTrace = {
        ...(r?.trace?.received !== undefined ? { received: r.trace.received } : {}),
        ...(r?.producedAt !== undefined ? { produced: r.producedAt } : {}),
        fetched,
        persisted: result.persistedAt,
        pushed: pushStart,
      };
      return { type: 'message', message: served[i] ?? s.message, trace };
    });
    const push = await bounded.pushToUsers(result.members, events);
    delivered += push.delivered;
    failed += push.failed;
    gone.push(...push.gone);
    // Members with no open connection get a Web Push instead (issue 15): handed on after the live pushes.
    const record = push.offline
      ? offlineRecord(
          conversationId,
          fresh.map((s) => s.message),
          push.offline,
        )
      : null;
    if (record) notifications.push(record);
    await ports.markPushed(
      conversationId,
      fresh.map((s) => s.message.id),
    );
  });
  await announceGone(bounded, gone);
  let notified = 0;
  if (notifications.length > 0 && ports.notifyOffline) {
    // One produce for the batch, after every live push. Best effort: a failure loses these notifications (the
    // messages are stored and pushed live; retrying the batch would not produce them again, it is marked
    // pushed), so it is logged, never thrown.
    try {
      await ports.notifyOffline(notifications);
      notified = notifications.length;
    } catch (error) {
      ports.log.warn('persist: handing notifications to webPush failed; they are lost', {
        records: notifications.length,
        error,
      });
    }
  }
  return { stored, duplicates, alreadyPushed, delivered, failed, gone: gone.length, notified };
}
