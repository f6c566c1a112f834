/**
 * The sockets of a run: C connections spread over the world's users round robin (a user with several
 * connections is a user with several devices), each with its own ticket, heartbeat and (for chaos) reconnect
 * with the gap filled from history; the send of one message; and the drain at the end of a phase, which waits
 * until every acked message reached every connection that must have it. Accounting is the `Tally`'s.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { limits } from '@chat/functions/contracts';
import { mapLimit } from '@chat/kit/async';
import { type Endpoints, openSocket, sendFrame, ulidFloor } from './client.ts';
import { log } from './progress.ts';
import { Recorder } from './stats.ts';
import { type Conn, type SentMsg, Tally } from './tally.ts';
import { type BenchConversation, type BenchUser, retrying, type World } from './world.ts';

/** C open connections, spread over the world's users round robin; tracks every run message they receive. */
export class Connections extends Tally {
  readonly conns: Conn[] = [];
  readonly connectMs = new Recorder(1024);
  private closing = false;

  /**
   * Like the web client: a connection the server closes is reopened with a new ticket (after ~1 s), then the gap
   * is filled from history (`GET …/messages?after=`), so what it missed while closed still counts as received.
   * Used by the chaos scenarios (a Redis restart makes the server close every connection).
   */
  reconnect = false;

  constructor(
    readonly world: World,
    readonly endpoints: Endpoints,
  ) {
    super();
  }

  /** Open `count` more connections at most `perSecond` new ones per second (API Gateway allows 500/s). */
  async open(count: number, perSecond = 300, concurrency = 32): Promise<void> {
    const start = this.conns.length;
    const users = this.world.users.length;
    const idx = Array.from({ length: count }, (_, k) => start + k);
    const t0 = performance.now();
    let opened = 0;
    await mapLimit(idx, concurrency, async (i) => {
      // pace: connection k may start at t0 + k / perSecond
      const due = t0 + ((i - start) * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 0) await delay(wait);
      const conn: Conn = {
        idx: i,
        user: i % users,
        ws: null,
        openedAt: 0,
        closedAt: null,
        closeCode: null,
        closedByUs: false,
        received: new Set(),
        duplicates: 0,
        sends: 0,
      };
      this.conns[i] = conn;
      this.connectMs.add(await this.connect(conn));
      opened++;
      if (opened % 1000 === 0) log(`connections: ${opened}/${count} open`);
    });
    log(`connections: ${count} open in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  /** Opens (or reopens) the socket of `conn`; resolves with the handshake time. */
  private async connect(conn: Conn): Promise<number> {
    const user = this.world.users[conn.user] as BenchUser;
    const { ws, connectMs } = await retrying(async () => {
      const { ticket } = await this.world.api.ticket(user.accessToken);
      return openSocket(this.endpoints.wsUrl, ticket, (ev) => this.handleEvent(conn, ev));
    }, 4);
    conn.ws = ws;
    if (conn.openedAt === 0) conn.openedAt = performance.now();
    ws.on('close', (code) => {
      if (conn.ws !== ws) return;
      conn.closedAt = performance.now();
      conn.closeCode = code;
      if (this.closing) conn.closedByUs = true;
      else {
        this.counters.unexpectedCloses++;
        this.counters.closeCodes[code] = (this.counters.closeCodes[code] ?? 0) + 1;
        if (this.reconnect) void this.reopen(conn);
      }
    });
    ws.on('error', () => {});
    // Heartbeat like the web client (limits.heartbeatIntervalMs), jittered; without it a connection that does
    // not send (an observer) is closed after the 10-minute idle timeout.
    const beat = setInterval(
      () => {
        if (conn.closedAt === null && ws.readyState === ws.OPEN) sendFrame(ws, { action: 'ping' });
      },
      limits.heartbeatIntervalMs - 5_000 + Math.random() * 10_000,
    );
    beat.unref();
    ws.once('close', () => clearInterval(beat));
    return connectMs;
  }

  /** Reopen a connection the server closed, then fill what it missed from history. */
  private async reopen(conn: Conn): Promise<void> {
    const closedWallMs = Date.now();
    await delay(500 + Math.random() * 1_000);
    if (this.closing) return;
    try {
      await this.connect(conn);
    } catch {
      return; // stays closed: its messages then count as lost for it, as they would for a real client
    }
    conn.closedAt = null;
    conn.closeCode = null;
    this.counters.reconnects++;
    // Registered again (the socket opened after `$connect` succeeded): everything persisted before now is in
    // history; ask from well before the close (ids are minted at send time, before the ack).
    const user = this.world.users[conn.user] as BenchUser;
    const after = ulidFloor(closedWallMs - 60_000);
    for (const convIdx of user.conversations) {
      const conv = this.world.conversations[convIdx] as BenchConversation;
      let cursor: string | null = after;
      while (cursor) {
        const page: Awaited<ReturnType<World['api']['history']>> = await retrying(() =>
          this.world.api.history(user.accessToken, conv.id, { after: cursor ?? after, limit: 100 }),
        );
        for (const message of page.messages) {
          const seq = this.byClientMsgId.get(message.clientMsgId);
          if (seq === undefined || conn.received.has(seq)) continue;
          conn.received.add(seq);
          this.counters.filledFromHistory++;
        }
        cursor = page.nextCursor;
      }
    }
  }

  /** Send one message from connection `c` to conversation `conv`; returns its seq, or -1 if the socket is closed. */
  send(c: number, conv: number, body?: string): number {
    const conn = this.conns[c] as Conn;
    if (!conn.ws || conn.closedAt !== null || conn.ws.readyState !== conn.ws.OPEN) return -1;
    const { seq, clientMsgId } = this.record(conn, conv, this.world.opts.runId);
    sendFrame(conn.ws, {
      action: 'sendMessage',
      conversationId: (this.world.conversations[conv] as BenchConversation).id,
      clientMsgId,
      body: body ?? `bench message ${seq} from ${conn.idx}`,
    });
    return seq;
  }

  /** Forget every message sent so far (after a warm-up), per-connection receipts included. */
  override resetTracking(): void {
    super.resetTracking();
    for (const conn of this.conns) if (conn) conn.received.clear();
  }

  /** Connections of a user that are open. */
  connsOfUser(user: number): Conn[] {
    const out: Conn[] = [];
    const users = this.world.users.length;
    for (let i = user; i < this.conns.length; i += users) {
      const c = this.conns[i];
      if (c?.ws && c.closedAt === null) out.push(c);
    }
    return out;
  }

  /** Connections that must receive message `m`: members' connections open before the send and still open. */
  expectedRecipients(m: SentMsg): Conn[] {
    const conv = this.world.conversations[m.conv] as BenchConversation;
    const out: Conn[] = [];
    const users = this.world.users.length;
    for (const member of conv.members) {
      for (let i = member; i < this.conns.length; i += users) {
        const c = this.conns[i];
        if (c?.ws && c.openedAt > 0 && c.openedAt <= m.sentAt && (c.closedAt === null || c.closedByUs))
          out.push(c);
      }
    }
    return out;
  }

  /** Number of (message, connection) deliveries still missing for acked messages. */
  missingDeliveries(): number {
    let missing = 0;
    for (const m of this.sent) {
      if (m.ackAt === 0) continue;
      for (const c of this.expectedRecipients(m)) if (!c.received.has(m.seq)) missing++;
    }
    return missing;
  }

  /** Wait until every acked message reached every expected connection and every send got an answer, or timeout. */
  async drain(timeoutMs: number): Promise<{ drainedMs: number; complete: boolean }> {
    const t0 = performance.now();
    let fastCheck = 0;
    while (performance.now() - t0 < timeoutMs) {
      // A send unanswered for a minute will not be answered (its ack was dropped by the integration timeout,
      // which the client sees as `Endpoint request timed out`): not acked, so nothing to wait for.
      const now = performance.now();
      const unanswered = this.sent.some(
        (m) => m.ackAt === 0 && m.errorCode === null && now - m.sentAt < 60_000,
      );
      // Cheap check first: total deliveries vs the expected total.
      if (!unanswered) {
        fastCheck++;
        if (this.missingDeliveries() === 0) return { drainedMs: performance.now() - t0, complete: true };
      }
      await delay(fastCheck > 20 ? 500 : 100);
    }
    return { drainedMs: performance.now() - t0, complete: false };
  }

  async closeAll(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.conns.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (!c?.ws || c.closedAt !== null) return resolve();
            const t = setTimeout(() => {
              c.ws?.terminate();
              resolve();
            }, 2_000);
            c.ws.once('close', () => {
              clearTimeout(t);
              resolve();
            });
            c.ws.close(1000);
          }),
      ),
    );
  }
}
