/**
 * Receive and tally: every message a run sends is recorded here (client message id → seq), and every server
 * event on every connection is accounted against it: acks and refusals, deliveries per connection (a second
 * delivery of one id to one connection is a duplicate), send→ack and send→delivery latency. Also the two
 * backpressure probes the send loop reads (oldest unanswered send, oldest undelivered ack).
 */
import type { ServerEvent } from '@chat/functions/contracts';
import type WebSocket from 'ws';
import { HopRecorder } from './hops.ts';
import { Recorder } from './stats.ts';

export interface Conn {
  idx: number;
  user: number;
  ws: WebSocket | null;
  openedAt: number;
  /** When the socket closed (performance.now()), or null while open. */
  closedAt: number | null;
  closeCode: number | null;
  /** Closed by the bench itself at the end (still counts as connected for accounting). */
  closedByUs: boolean;
  /** seq of every run message this connection received, for duplicate detection. */
  received: Set<number>;
  duplicates: number;
  /** Sends in the current second, to stay under the per-connection frame limit. */
  sends: number;
}

export interface SentMsg {
  seq: number;
  conn: number;
  conv: number;
  clientMsgId: string;
  sentAt: number;
  ackAt: number;
  messageId: string | null;
  errorCode: string | null;
  /** No answer within a minute: no longer counted as in flight by the backpressure. */
  givenUp?: boolean;
  deliveries: number;
  firstDeliveryAt: number;
  lastDeliveryAt: number;
}

export interface LoadCounters {
  sent: number;
  acked: number;
  refused: number;
  deliveries: number;
  duplicates: number;
  otherEvents: number;
  unexpectedCloses: number;
  /** Close codes of unexpected closes. */
  closeCodes: Record<string, number>;
  errorsByCode: Record<string, number>;
  /** Frames that are not protocol events (API Gateway error bodies, integration timeouts). */
  nonContractFrames: number;
  nonContractSamples: string[];
  /** Sends without an answer after a minute (e.g. their ack was dropped by the integration timeout). */
  givenUp: number;
  /** Reconnections after a close by the server (only with `reconnect`). */
  reconnects: number;
  /** Messages a reconnected connection got from history (the gap), not live. */
  filledFromHistory: number;
}

type Listener = (conn: Conn, ev: ServerEvent) => void;

/** What a run sent and what its connections received. `Connections` adds the sockets. */
export class Tally {
  readonly sent: SentMsg[] = [];
  protected readonly byClientMsgId = new Map<string, number>();
  readonly ackLatency = new Recorder(1 << 14);
  readonly deliveryLatency = new Recorder(1 << 16);
  /** Per-hop latency from the platform's trace on each live delivery. */
  readonly hops = new HopRecorder();
  readonly counters: LoadCounters = {
    sent: 0,
    acked: 0,
    refused: 0,
    deliveries: 0,
    duplicates: 0,
    otherEvents: 0,
    unexpectedCloses: 0,
    closeCodes: {},
    errorsByCode: {},
    nonContractFrames: 0,
    nonContractSamples: [],
    givenUp: 0,
    reconnects: 0,
    filledFromHistory: 0,
  };
  readonly listeners: Listener[] = [];

  /** Numbers client message ids across resets, so that no id is ever reused within a run. */
  private msgCounter = 0;
  /** Distinguishes this set of connections' client message ids from other phases' of the same run. */
  readonly tag = Math.random().toString(36).slice(2, 6);

  /** Records a send from `conn` to conversation `conv` under a fresh client message id. */
  protected record(conn: Conn, conv: number, runId: string): SentMsg {
    const seq = this.sent.length;
    const clientMsgId = `${runId}-${this.tag}-${this.msgCounter++}`;
    const m: SentMsg = {
      seq,
      conn: conn.idx,
      conv,
      clientMsgId,
      sentAt: performance.now(),
      ackAt: 0,
      messageId: null,
      errorCode: null,
      deliveries: 0,
      firstDeliveryAt: 0,
      lastDeliveryAt: 0,
    };
    this.sent.push(m);
    this.byClientMsgId.set(clientMsgId, seq);
    this.counters.sent++;
    conn.sends++;
    return m;
  }

  /** Account for one server event on a connection (public for the accounting tests). */
  handleEvent(conn: Conn, ev: ServerEvent): void {
    const now = performance.now();
    switch (ev.type) {
      case 'ack': {
        const seq = this.byClientMsgId.get(ev.clientMsgId);
        if (seq === undefined) break;
        const m = this.sent[seq] as SentMsg;
        if (m.ackAt === 0) {
          if (m.givenUp) {
            m.givenUp = false;
            this.counters.givenUp--;
          }
          m.ackAt = now;
          m.messageId = ev.messageId;
          this.counters.acked++;
          this.ackLatency.add(now - m.sentAt);
        }
        break;
      }
      case 'message': {
        const seq = this.byClientMsgId.get(ev.message.clientMsgId);
        if (seq === undefined) break; // not this run's message
        const m = this.sent[seq] as SentMsg;
        if (conn.received.has(seq)) {
          conn.duplicates++;
          this.counters.duplicates++;
          break;
        }
        conn.received.add(seq);
        m.messageId ??= ev.message.id;
        m.deliveries++;
        if (m.firstDeliveryAt === 0) m.firstDeliveryAt = now;
        m.lastDeliveryAt = now;
        this.counters.deliveries++;
        this.deliveryLatency.add(now - m.sentAt);
        this.hops.add(ev.trace, performance.timeOrigin + m.sentAt, performance.timeOrigin + now);
        break;
      }
      case 'error': {
        this.counters.errorsByCode[ev.code] = (this.counters.errorsByCode[ev.code] ?? 0) + 1;
        const seq = ev.clientMsgId === undefined ? undefined : this.byClientMsgId.get(ev.clientMsgId);
        if (seq !== undefined) {
          const m = this.sent[seq] as SentMsg;
          if (m.ackAt === 0 && m.errorCode === null) {
            if (m.givenUp) {
              m.givenUp = false;
              this.counters.givenUp--;
            }
            m.errorCode = ev.code;
            this.counters.refused++;
          }
        }
        break;
      }
      default:
        if (typeof (ev as { type?: unknown }).type !== 'string') {
          // Not a contract frame: e.g. API Gateway's own `{"message": "Internal server error"}` or a timeout.
          const raw = JSON.stringify(ev).slice(0, 200);
          this.counters.nonContractFrames++;
          if (this.counters.nonContractSamples.length < 5) this.counters.nonContractSamples.push(raw);
        } else this.counters.otherEvents++;
    }
    for (const l of this.listeners) l(conn, ev);
  }

  /** Send one message from connection `c` to conversation `conv`; returns its seq, or -1 if the socket is closed. */

  /**
   * Forget every message sent so far (after a warm-up): later events for them are ignored. Counters and
   * latency recorders start from zero (`Connections` also clears the per-connection receipts).
   */
  resetTracking(): void {
    this.sent.length = 0;
    this.answeredCursor = 0;
    this.deliveredCursor = 0;
    this.byClientMsgId.clear();
    this.ackLatency.reset();
    this.deliveryLatency.reset();
    this.hops.reset();
    const c = this.counters;
    c.sent = c.acked = c.refused = c.deliveries = c.duplicates = c.otherEvents = c.unexpectedCloses = 0;
    c.closeCodes = {};
    c.errorsByCode = {};
    c.nonContractFrames = 0;
    c.nonContractSamples = [];
    c.givenUp = 0;
  }

  private answeredCursor = 0;
  /**
   * sentAt of the oldest send still without an answer (ack or error), or null. Sends unanswered for over
   * `giveUpMs` are passed over (their answer is not coming: e.g. an integration timeout dropped it), so one
   * lost answer cannot hold the load back forever. Amortized O(1).
   */
  oldestUnansweredAt(now = performance.now(), giveUpMs = 60_000): number | null {
    while (this.answeredCursor < this.sent.length) {
      const m = this.sent[this.answeredCursor] as SentMsg;
      if (m.ackAt === 0 && m.errorCode === null) {
        if (now - m.sentAt < giveUpMs) return m.sentAt;
        m.givenUp = true;
        this.counters.givenUp++;
      }
      this.answeredCursor++;
    }
    return null;
  }

  private deliveredCursor = 0;
  /** sentAt of the oldest acked message not yet delivered anywhere, or null (same give-up rule). */
  oldestUndeliveredAt(now = performance.now(), giveUpMs = 60_000): number | null {
    while (this.deliveredCursor < this.sent.length) {
      const m = this.sent[this.deliveredCursor] as SentMsg;
      if (m.ackAt !== 0 && m.firstDeliveryAt === 0 && now - m.sentAt < giveUpMs) return m.sentAt;
      if (m.ackAt === 0 && m.errorCode === null && now - m.sentAt < giveUpMs) return null; // not acked yet
      this.deliveredCursor++;
    }
    return null;
  }
}
