import type { Message } from '@chat/functions/contracts';

/** An attachment uploaded for a message I am sending (what the bubble shows until the message is persisted). */
export interface OutgoingAttachment {
  id: string;
  filename: string;
  contentType: string;
  size: number;
}

/**
 * A message I wrote that the server has not yet returned as persisted, or a change of mine to a message
 * (`kind`: an edit, a delete, a reaction) that waits for its ack: both go out in order, offline they wait.
 */
export interface Outgoing {
  clientMsgId: string;
  conversationId: string;
  /** The text of a message or of an edit; empty for a delete or a reaction. */
  body: string;
  /** Absent for a new message. */
  kind?: 'edit' | 'delete' | 'react';
  /** The message an edit, delete or reaction is about. */
  messageId?: string;
  emoji?: string;
  add?: boolean;
  /** A new message's reply target and attachments. */
  replyTo?: string;
  attachments?: OutgoingAttachment[];
  /** The frame's other fields (the default: `sendMessage` with `body`); conversationId and clientMsgId added. */
  wire?: Record<string, unknown>;
  /** Epoch ms, orders the outbox and dates the bubble. */
  createdAt: number;
  /**
   * queued: not written to a socket yet (offline, reconnecting) · sent: written, no ack yet ·
   * acked: accepted (published), waiting for the persisted message · failed: refused or timed out
   */
  status: 'queued' | 'sent' | 'acked' | 'failed';
  attempts: number;
  lastSentAt: number | null;
  error: { code: string; message: string } | null;
}

export type Outbox = readonly Outgoing[];

/** Codes after which sending the same frame again can work. */
const RETRYABLE = new Set(['timeout', 'rate_limited', 'internal', 'unavailable', 'network', 'offline']);

export function isRetryable(o: Outgoing): boolean {
  return o.status !== 'failed' || o.error === null || RETRYABLE.has(o.error.code);
}

/** What a caller enqueues (the delivery fields start fresh). */
export type NewOutgoing = Omit<Outgoing, 'status' | 'attempts' | 'lastSentAt' | 'error'>;

export function enqueue(outbox: Outbox, item: NewOutgoing): Outbox {
  if (outbox.some((o) => o.clientMsgId === item.clientMsgId)) return outbox;
  return [...outbox, { ...item, status: 'queued', attempts: 0, lastSentAt: null, error: null }];
}

function update(outbox: Outbox, clientMsgId: string, fn: (o: Outgoing) => Outgoing): Outbox {
  let changed = false;
  const next = outbox.map((o) => {
    if (o.clientMsgId !== clientMsgId) return o;
    const u = fn(o);
    if (u !== o) changed = true;
    return u;
  });
  return changed ? next : outbox;
}

export function markSent(outbox: Outbox, clientMsgId: string, now: number): Outbox {
  return update(outbox, clientMsgId, (o) => ({
    ...o,
    status: 'sent',
    attempts: o.attempts + 1,
    lastSentAt: now,
    error: null,
  }));
}

export function markAcked(outbox: Outbox, clientMsgId: string): Outbox {
  return update(outbox, clientMsgId, (o) =>
    o.status === 'sent' || o.status === 'queued' ? { ...o, status: 'acked' } : o,
  );
}

export function markFailed(
  outbox: Outbox,
  clientMsgId: string,
  error: { code: string; message: string },
): Outbox {
  return update(outbox, clientMsgId, (o) => ({ ...o, status: 'failed', error }));
}

/** Back to the queue (the user pressed retry, or a reconnect is about to resend). */
export function requeue(outbox: Outbox, clientMsgId: string): Outbox {
  return update(outbox, clientMsgId, (o) =>
    o.status === 'queued' ? o : { ...o, status: 'queued', error: null },
  );
}

export function remove(outbox: Outbox, clientMsgId: string): Outbox {
  const next = outbox.filter((o) => o.clientMsgId !== clientMsgId);
  return next.length === outbox.length ? outbox : next;
}

/** Drops what came back persisted (my messages, matched by clientMsgId). */
export function settle(outbox: Outbox, messages: readonly Message[], myId: string): Outbox {
  if (outbox.length === 0) return outbox;
  const done = new Set(messages.filter((m) => m.senderId === myId).map((m) => m.clientMsgId));
  if (done.size === 0) return outbox;
  const next = outbox.filter((o) => !done.has(o.clientMsgId));
  return next.length === outbox.length ? outbox : next;
}

/**
 * What to (re)send after a (re)connect, oldest first: everything not yet persisted, with the same
 * clientMsgId, except what the server refused for good. Resending an accepted message is harmless (the server
 * dedupes by clientMsgId) and covers a publish that was lost with the connection.
 */
export function toResend(outbox: Outbox): Outgoing[] {
  return outbox.filter(isRetryable).sort((a, b) => a.createdAt - b.createdAt);
}

/** Written but not acknowledged within `timeoutMs`: these become failed (retry offered, resent on reconnect). */
export function timedOut(outbox: Outbox, now: number, timeoutMs: number): string[] {
  return outbox
    .filter((o) => o.status === 'sent' && o.lastSentAt !== null && now - o.lastSentAt > timeoutMs)
    .map((o) => o.clientMsgId);
}
