import type { ClientFrame } from '@chat/functions/contracts';
import type { KeyValueStorage } from '../api/session.ts';
import { limits } from '../limits.ts';
import type { NewOutgoing, Outbox, Outgoing } from './outbox.ts';
import * as outboxOps from './outbox.ts';
import type { StoreContext } from './ports.ts';

/** Automatic resends of an unacknowledged message (same clientMsgId) before it shows as failed. */
const AUTO_RESENDS = 2;
/**
 * Automatic resends of a message the server refused as `unavailable` (a backing service down; the protocol says
 * resend with the same clientMsgId) before it shows as failed: the first three 1 s after the refusal (a Redis
 * restart is over in a few seconds), then 2, 4 and every 8 s (each up to half more, so that clients do not resend
 * in step): together about two minutes, as long as a Kafka or Cassandra restart takes here. A refusal can come
 * fast (a broker that refuses connections is given up on in about a second), so a budget of resends at a fixed
 * 1–2 s covered less than 20 s.
 */
export const UNAVAILABLE_RESENDS = 17;

function randomId(): string {
  // randomUUID exists in secure contexts only (https, localhost): not on a LAN address over http
  return (
    globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
  );
}

/**
 * The outbox on the wire: optimistic sends, one unacknowledged message per conversation at a time, resends
 * with the same clientMsgId (after a reconnect, a rate limit, a missing ack), failures the user can retry.
 */
export class SendController {
  private rateRetry: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly ctx: StoreContext,
    private readonly options: { newId?: () => string; ackTimeoutMs?: number } = {},
  ) {}

  /**
   * Optimistic send: the message shows at once as pending and goes out when a socket is open. `extras` (from
   * `changes.ts`) make it a reply, add attachments, or make it a change to a message: `wire` is its frame.
   */
  send(conversationId: string, body: string, extras?: Partial<NewOutgoing>): string | null {
    if ((!extras && !body.trim()) || body.length > limits.messageBodyMaxChars) return null;
    const clientMsgId = (this.options.newId ?? randomId)();
    this.ctx.dispatch({
      type: 'outbox/enqueue',
      item: { ...extras, clientMsgId, conversationId, body, createdAt: this.ctx.now() },
    });
    this.flush();
    return clientMsgId;
  }

  retry(clientMsgId: string): void {
    this.ctx.dispatch({ type: 'outbox/requeue', clientMsgIds: [clientMsgId] });
    this.flush();
  }

  discard(clientMsgId: string): void {
    this.ctx.dispatch({ type: 'outbox/remove', clientMsgId });
  }

  /**
   * Writes queued messages to the socket, oldest first, one unacknowledged message per conversation at a
   * time: the server assigns ids (the order everyone sees) as sends arrive, and concurrent sends could be
   * ordered differently than typed, e.g. a burst written offline.
   */
  flush(): void {
    const { realtime } = this.ctx;
    if (!realtime.isOpen()) return;
    const outbox = this.ctx.getState().outbox;
    const busy = new Set(outbox.filter((o) => o.status === 'sent').map((o) => o.conversationId));
    const sent: string[] = [];
    for (const o of outbox) {
      if (o.status !== 'queued' || busy.has(o.conversationId)) continue;
      const ok = realtime.send({
        ...(o.wire ?? { action: 'sendMessage', body: o.body }),
        conversationId: o.conversationId,
        clientMsgId: o.clientMsgId,
      } as ClientFrame);
      if (!ok) break;
      sent.push(o.clientMsgId);
      busy.add(o.conversationId);
    }
    if (sent.length) this.ctx.dispatch({ type: 'outbox/sent', clientMsgIds: sent, now: this.ctx.now() });
  }

  /** A socket opened: everything not yet persisted goes again, with the same clientMsgId (never doubled). */
  resendAll(): void {
    const ids = outboxOps.toResend(this.ctx.getState().outbox).map((o) => o.clientMsgId);
    if (ids.length) this.ctx.dispatch({ type: 'outbox/requeue', clientMsgIds: ids });
    this.flush();
  }

  acked(clientMsgId: string): void {
    this.ctx.dispatch({ type: 'outbox/acked', clientMsgId });
    this.flush();
  }

  /**
   * The server refused a send: it fails (retry on demand), except after `unavailable`, where it stays pending
   * (holding its conversation's later sends behind it) and goes again a little later, as after a rate limit,
   * until `UNAVAILABLE_RESENDS` resends were refused too.
   */
  refused(clientMsgId: string, error: { code: string; message: string }): void {
    const item = this.ctx.getState().outbox.find((o) => o.clientMsgId === clientMsgId);
    if (error.code === 'unavailable' && item && item.attempts <= UNAVAILABLE_RESENDS) {
      // back in the queue (no longer waiting for an ack): out again after the delay, or with the next flush
      this.ctx.dispatch({ type: 'outbox/requeue', clientMsgIds: [clientMsgId] });
      this.rateLimited(1_000 * 2 ** Math.max(Math.min(item.attempts - 3, 3), 0) * (1 + Math.random() / 2));
    } else this.ctx.dispatch({ type: 'outbox/failed', clientMsgIds: [clientMsgId], error });
  }

  /**
   * Which frame was refused is not always said: resend every unacknowledged message a little later (same
   * clientMsgIds, so nothing doubles), 1–2 s unless told.
   */
  rateLimited(delayMs: number = 1_000 + Math.random() * 1_000): void {
    this.rateRetry ??= setTimeout(() => {
      this.rateRetry = null;
      const ids = this.ctx
        .getState()
        .outbox.filter((o) => o.status === 'sent')
        .map((o) => o.clientMsgId);
      if (ids.length) this.ctx.dispatch({ type: 'outbox/requeue', clientMsgIds: ids });
      this.flush();
    }, delayMs);
  }

  /** Sends that got no ack in time: resent while the socket is open (twice), then failed. */
  sweep(now: number): void {
    const outbox = this.ctx.getState().outbox;
    const late = outboxOps.timedOut(outbox, now, this.options.ackTimeoutMs ?? 10_000);
    if (!late.length) return;
    const canResend = this.ctx.realtime.isOpen();
    const again = late.filter((id) => {
      const o = outbox.find((x) => x.clientMsgId === id);
      return o !== undefined && o.attempts <= AUTO_RESENDS && canResend;
    });
    const failed = late.filter((id) => !again.includes(id));
    if (again.length) this.ctx.dispatch({ type: 'outbox/requeue', clientMsgIds: again });
    if (failed.length)
      this.ctx.dispatch({
        type: 'outbox/failed',
        clientMsgIds: failed,
        error: { code: 'timeout', message: 'Not delivered yet.' },
      });
    this.flush();
  }

  stop(): void {
    if (this.rateRetry) clearTimeout(this.rateRetry);
    this.rateRetry = null;
  }
}

// ── persistence of the outbox (a reload does not lose what was typed offline) ─────────────────────────────

function outboxKey(userId: string): string {
  return `chat.outbox.v1.${userId}`;
}

export function loadOutbox(storage: KeyValueStorage | undefined, userId: string): Outbox {
  const raw = storage?.getItem(outboxKey(userId));
  if (!raw) return [];
  try {
    const list = JSON.parse(raw) as Outgoing[];
    if (!Array.isArray(list)) return [];
    return list
      .filter((o) => typeof o?.clientMsgId === 'string' && typeof o.body === 'string')
      .map((o) => ({ ...o, status: o.status === 'failed' ? o.status : ('queued' as const) }));
  } catch {
    return [];
  }
}

export function saveOutbox(storage: KeyValueStorage | undefined, userId: string, outbox: Outbox): void {
  if (!storage) return;
  try {
    if (outbox.length === 0) storage.removeItem(outboxKey(userId));
    else storage.setItem(outboxKey(userId), JSON.stringify(outbox));
  } catch {
    // quota: the outbox still lives in memory
  }
}
