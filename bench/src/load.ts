/**
 * The load generator: real users over the public protocol. Sign up users, create DMs and groups, open C
 * connections (one ticket each), send R messages per second for D seconds, then account for every message:
 *
 * - send→ack and send→delivery latency (every delivery to every connected member's socket, the sender's too);
 * - LOST: an acked message that some connection open for the whole run never received, or that history lacks;
 * - DUPLICATED: one message id delivered twice to one connection (or listed twice in history).
 */
import { type Conversation, limits, type Message, type ServerEvent } from '@chat/functions/contracts';
import type WebSocket from 'ws';
import { type Api, type Endpoints, HttpError, openSocket, sendFrame, ulidFloor } from './client.ts';
import { log } from './progress.ts';
import { jsonSummary, Recorder } from './stats.ts';

export const BENCH_PASSWORD = 'bench-password-0';

export interface WorldOptions {
  /** Short unique id (lower-case letters and digits) in every username and client message id of the run. */
  runId: string;
  users: number;
  /** Members per group (creator included). Every user also has a DM with the next user (a ring). */
  groupSize: number;
  /** Run `fn` for at most this many users/conversations at once during setup. */
  setupConcurrency?: number;
}

export interface BenchUser {
  idx: number;
  id: string;
  username: string;
  accessToken: string;
  refreshToken: string;
  tokenAt: number;
  conversations: number[];
  /**
   * Never sends (the last member of each group): its read pointer never moves, so its unread count must be
   * exactly the number of messages in the conversation.
   */
  observer: boolean;
}

export interface BenchConversation {
  idx: number;
  id: string;
  type: 'dm' | 'group';
  members: number[];
}

/** Run async tasks with bounded concurrency; rejects on the first failure. */
export async function pool<T>(
  items: T[],
  concurrency: number,
  fn: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        await fn(items[i] as T, i);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (failed !== undefined) throw failed;
}

/** Retry an HTTP call on 429/5xx and network errors, a bounded number of times. */
export async function retrying<T>(fn: () => Promise<T>, attempts = 6): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (err) {
      last = err;
      if (err instanceof HttpError && err.status < 500 && err.status !== 429) throw err;
      await new Promise((r) => setTimeout(r, 200 * 2 ** i));
    }
  }
  throw last;
}

/** Users and their conversations, created through the HTTP API. */
export class World {
  readonly users: BenchUser[] = [];
  readonly conversations: BenchConversation[] = [];
  /** Wall clock before the first conversation existed: history since then is the conversations' whole history. */
  readonly createdAtMs = Date.now();

  constructor(
    readonly api: Api,
    readonly opts: WorldOptions,
  ) {}

  static async create(api: Api, opts: WorldOptions): Promise<World> {
    const w = new World(api, opts);
    await w.setup();
    return w;
  }

  private async setup(): Promise<void> {
    const { runId, users, groupSize } = this.opts;
    const conc = this.opts.setupConcurrency ?? 8;
    const t0 = performance.now();
    const idx = Array.from({ length: users }, (_, i) => i);
    await pool(idx, conc, async (i) => {
      const username = `b${runId}_${i}`;
      const auth = await retrying(() => this.api.signup(username, BENCH_PASSWORD));
      this.users[i] = {
        idx: i,
        id: auth.user.id,
        username,
        accessToken: auth.accessToken,
        refreshToken: auth.refreshToken,
        tokenAt: Date.now(),
        conversations: [],
        observer: false,
      };
    });
    log(`setup: ${users} users signed up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const specs: { creator: number; members: number[]; type: 'dm' | 'group' }[] = [];
    if (users >= 2) {
      for (let i = 0; i < users; i++) {
        const peer = (i + 1) % users;
        if (users === 2 && i === 1) break; // one DM for a pair
        specs.push({ creator: i, members: [i, peer], type: 'dm' });
      }
    }
    if (groupSize >= 3) {
      for (let start = 0; start + groupSize <= users; start += groupSize) {
        specs.push({
          creator: start,
          members: Array.from({ length: groupSize }, (_, k) => start + k),
          type: 'group',
        });
      }
    }
    const t1 = performance.now();
    await pool(specs, conc, async (spec, i) => {
      const creator = this.users[spec.creator] as BenchUser;
      const others = spec.members
        .filter((m) => m !== spec.creator)
        .map((m) => (this.users[m] as BenchUser).id);
      const conv: Conversation = await retrying(() =>
        this.api.createConversation(
          creator.accessToken,
          spec.type === 'dm'
            ? { type: 'dm', peerId: others[0] as string }
            : { type: 'group', title: `bench ${runId} ${i}`, memberIds: others },
        ),
      );
      this.conversations[i] = { idx: i, id: conv.id, type: spec.type, members: spec.members };
    });
    for (const c of this.conversations)
      for (const m of c.members) (this.users[m] as BenchUser).conversations.push(c.idx);
    for (const c of this.conversations) {
      if (c.type === 'group') (this.users[c.members.at(-1) as number] as BenchUser).observer = true;
    }
    log(`setup: ${specs.length} conversations in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  }

  /** Refresh access tokens older than `maxAgeMs` (the access token lives 15 minutes). */
  async refreshTokens(maxAgeMs = 10 * 60_000): Promise<void> {
    const stale = this.users.filter((u) => Date.now() - u.tokenAt > maxAgeMs);
    await pool(stale, 8, async (u) => {
      const auth = await retrying(() => this.api.refresh(u.refreshToken));
      u.accessToken = auth.accessToken;
      u.refreshToken = auth.refreshToken;
      u.tokenAt = Date.now();
    });
  }
}

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

/** C open connections, spread over the world's users round robin; tracks every run message they receive. */
export class Connections {
  readonly conns: Conn[] = [];
  readonly sent: SentMsg[] = [];
  private readonly byClientMsgId = new Map<string, number>();
  readonly ackLatency = new Recorder(1 << 14);
  readonly deliveryLatency = new Recorder(1 << 16);
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
  readonly connectMs = new Recorder(1024);
  readonly listeners: Listener[] = [];
  private closing = false;

  /** Numbers client message ids across resets, so that no id is ever reused within a run. */
  private msgCounter = 0;
  /** Distinguishes this set of connections' client message ids from other phases' of the same run. */
  readonly tag = Math.random().toString(36).slice(2, 6);

  /**
   * Like the web client: a connection the server closes is reopened with a new ticket (after ~1 s), then the gap
   * is filled from history (`GET …/messages?after=`), so what it missed while closed still counts as received.
   * Used by the chaos scenarios (a Redis restart makes the server close every connection).
   */
  reconnect = false;

  constructor(
    readonly world: World,
    readonly endpoints: Endpoints,
  ) {}

  /** Open `count` more connections at most `perSecond` new ones per second (API Gateway allows 500/s). */
  async open(count: number, perSecond = 300, concurrency = 32): Promise<void> {
    const start = this.conns.length;
    const users = this.world.users.length;
    const idx = Array.from({ length: count }, (_, k) => start + k);
    const t0 = performance.now();
    let opened = 0;
    await pool(idx, concurrency, async (i) => {
      // pace: connection k may start at t0 + k / perSecond
      const due = t0 + ((i - start) * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
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
    await new Promise((r) => setTimeout(r, 500 + Math.random() * 1_000));
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
  send(c: number, conv: number, body?: string): number {
    const conn = this.conns[c] as Conn;
    if (!conn.ws || conn.closedAt !== null || conn.ws.readyState !== conn.ws.OPEN) return -1;
    const seq = this.sent.length;
    const clientMsgId = `${this.world.opts.runId}-${this.tag}-${this.msgCounter++}`;
    const m: SentMsg = {
      seq,
      conn: c,
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
    sendFrame(conn.ws, {
      action: 'sendMessage',
      conversationId: (this.world.conversations[conv] as BenchConversation).id,
      clientMsgId,
      body: body ?? `bench message ${seq} from ${conn.idx}`,
    });
    return seq;
  }

  /**
   * Forget every message sent so far (after a warm-up): later events for them are ignored. Counters, latency
   * recorders and per-connection receipts start from zero.
   */
  resetTracking(): void {
    this.sent.length = 0;
    this.answeredCursor = 0;
    this.deliveredCursor = 0;
    this.byClientMsgId.clear();
    this.ackLatency.reset();
    this.deliveryLatency.reset();
    const c = this.counters;
    c.sent = c.acked = c.refused = c.deliveries = c.duplicates = c.otherEvents = c.unexpectedCloses = 0;
    c.closeCodes = {};
    c.errorsByCode = {};
    c.nonContractFrames = 0;
    c.nonContractSamples = [];
    c.givenUp = 0;
    for (const conn of this.conns) if (conn) conn.received.clear();
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
      await new Promise((r) => setTimeout(r, fastCheck > 20 ? 500 : 100));
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

export interface SendPlanOptions {
  rate: number;
  durationSec: number;
  /** Called every second with counters, for the progress display. */
  onTick?: () => void;
  /** Per-connection frame budget per second (the runtime answers `rate_limited` above 20). */
  perConnectionPerSecond?: number;
  /** Stop early when this returns true (chaos phases). */
  stop?: () => boolean;
  /** Probability that a send goes to one of the sender's groups rather than a DM (default: uniform). */
  groupShare?: number;
  /**
   * Backpressure: while more sends than this are unanswered, no new send starts (counted as skipped), so an
   * overloaded runtime is never handed an unbounded queue. Default: 5 seconds' worth at the target rate (500 to
   * 2,000), and never while the oldest unanswered send is over 5 s old: a queue deeper than API Gateway's 29 s integration timeout would lose the acks (the function still
   * runs, but its route response is dropped), and the run would measure timeouts instead of the system.
   */
  maxUnanswered?: number;
  /** Backpressure on the persist-and-push stage: the oldest acked, undelivered message's age (ms). */
  maxUndeliveredAgeMs?: number;
}

function pickConversation(world: World, user: BenchUser, groupShare: number | undefined): number {
  const list = user.conversations;
  if (groupShare !== undefined) {
    const wantGroup = Math.random() < groupShare;
    const pool = list.filter(
      (c) => (world.conversations[c] as BenchConversation).type === (wantGroup ? 'group' : 'dm'),
    );
    if (pool.length) return pool[Math.floor(Math.random() * pool.length)] as number;
  }
  return list[Math.floor(Math.random() * list.length)] as number;
}

/**
 * Send at a steady rate: every tick, send as many messages as are due by the clock (so timer lag turns into a
 * small burst, never into a lower rate). Senders rotate over open connections; each picks one of its user's
 * conversations at random.
 */
export async function sendAtRate(
  conns: Connections,
  opts: SendPlanOptions,
): Promise<{ sendWindowMs: number; skipped: number; backpressured: number }> {
  const perConnLimit = opts.perConnectionPerSecond ?? 10;
  const maxUnanswered = opts.maxUnanswered ?? Math.min(2_000, Math.max(500, opts.rate * 5));
  const maxUnansweredAgeMs = 5_000;
  /** Also hold back while an acked message has waited this long for its first delivery (persist is behind). */
  const maxUndeliveredAgeMs = opts.maxUndeliveredAgeMs ?? 10_000;
  let backpressured = 0;
  const t0 = performance.now();
  const end = t0 + opts.durationSec * 1000;
  let sentHere = 0;
  let skipped = 0;
  let cursor = 0;
  let lastSecond = t0;
  const n = conns.conns.length;
  while (performance.now() < end && !opts.stop?.()) {
    const now = performance.now();
    if (now - lastSecond >= 1000) {
      lastSecond = now;
      for (const c of conns.conns) if (c) c.sends = 0;
      opts.onTick?.();
    }
    const due = Math.floor(((now - t0) / 1000) * opts.rate) - sentHere;
    const c = conns.counters;
    const oldest = conns.oldestUnansweredAt(now);
    const unanswered = c.sent - c.acked - c.refused - c.givenUp;
    const oldestUndelivered = conns.oldestUndeliveredAt(now);
    if (
      unanswered > maxUnanswered ||
      (oldest !== null && now - oldest > maxUnansweredAgeMs) ||
      (oldestUndelivered !== null && now - oldestUndelivered > maxUndeliveredAgeMs)
    ) {
      // Over the backpressure limit: these sends are skipped, not queued.
      skipped += due;
      backpressured += due;
      sentHere += due;
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    for (let k = 0; k < due; k++) {
      let sentOne = false;
      for (let tries = 0; tries < n && !sentOne; tries++) {
        const c = conns.conns[cursor] as Conn;
        cursor = (cursor + 1) % n;
        if (!c || c.sends >= perConnLimit || c.closedAt !== null) continue;
        const user = conns.world.users[c.user] as BenchUser;
        if (user.observer || user.conversations.length === 0) continue;
        const conv = pickConversation(conns.world, user, opts.groupShare);
        if (conns.send(c.idx, conv) >= 0) sentOne = true;
      }
      if (!sentOne) skipped++;
      sentHere++;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  return { sendWindowMs: performance.now() - t0, skipped, backpressured };
}

export interface HistoryCheck {
  conversationsChecked: number;
  messagesInHistory: number;
  /** Acked messages that history does not hold. */
  missingFromHistory: number;
  /** The same message id twice, or one client message id under two ids. */
  duplicatedInHistory: number;
  /**
   * Members whose read pointer never moved (observers) whose unreadCount is not the number of messages in
   * the conversation: a redelivery counted twice, or a message not counted. Must be empty.
   */
  unreadMismatches: { conversationId: string; userId: string; unreadCount: number; expected: number }[];
  unreadChecked: number;
  /**
   * Members whose pointer moved (the server moves a sender's pointer to its own message) whose unreadCount
   * differs from the number of messages with a larger id than lastReadId. Informational: the server counts by
   * seq (Kafka order), clients by id; two racing sends can get ids in one order and seqs in the other.
   */
  unreadOrderDiffs: { conversationId: string; userId: string; unreadCount: number; byId: number }[];
  requests: number;
  errors: number;
}

/**
 * Read every conversation's history of this run (forward from the run's first millisecond) and compare it with
 * what was acked; then check each member's unread count against the history.
 */
export async function verifyHistory(conns: Connections, checkUnread: boolean): Promise<HistoryCheck> {
  const world = conns.world;
  await world.refreshTokens();
  const out: HistoryCheck = {
    conversationsChecked: 0,
    messagesInHistory: 0,
    missingFromHistory: 0,
    duplicatedInHistory: 0,
    unreadMismatches: [],
    unreadChecked: 0,
    unreadOrderDiffs: [],
    requests: 0,
    errors: 0,
  };
  // From the world's creation: earlier phases' messages count in unread counts too.
  const floor = ulidFloor(world.createdAtMs - 1000);
  const ackedByConv = new Map<number, SentMsg[]>();
  for (const m of conns.sent) {
    if (m.ackAt === 0 || !m.messageId) continue;
    const list = ackedByConv.get(m.conv) ?? [];
    list.push(m);
    ackedByConv.set(m.conv, list);
  }
  await pool(world.conversations, 4, async (conv) => {
    const reader = world.users[conv.members[0] as number] as BenchUser;
    const all: Message[] = [];
    let after = floor;
    for (let page = 0; page < 100_000; page++) {
      out.requests++;
      const res = await retrying(() => world.api.history(reader.accessToken, conv.id, { after, limit: 100 }));
      all.push(...res.messages);
      const last = res.messages.at(-1);
      if (!last || res.messages.length < 100) break;
      after = last.id;
    }
    out.conversationsChecked++;
    out.messagesInHistory += all.length;
    const ids = new Set<string>();
    const byClient = new Map<string, string>();
    for (const msg of all) {
      if (ids.has(msg.id)) out.duplicatedInHistory++;
      ids.add(msg.id);
      const prev = byClient.get(msg.clientMsgId);
      if (prev !== undefined && prev !== msg.id) out.duplicatedInHistory++;
      byClient.set(msg.clientMsgId, msg.id);
    }
    for (const m of ackedByConv.get(conv.idx) ?? [])
      if (!ids.has(m.messageId as string)) out.missingFromHistory++;
    if (!checkUnread) return;
    // Only this run's messages exist in these conversations, so history since the floor is the whole history.
    for (const member of conv.members) {
      const u = world.users[member] as BenchUser;
      out.requests++;
      const c = await retrying(() => world.api.conversation(u.accessToken, conv.id));
      if (c.lastReadId === null) {
        out.unreadChecked++;
        if (c.unreadCount !== all.length) {
          out.unreadMismatches.push({
            conversationId: conv.id,
            userId: u.id,
            unreadCount: c.unreadCount,
            expected: all.length,
          });
        }
      } else {
        const byId = all.filter((m) => m.id > (c.lastReadId as string)).length;
        if (c.unreadCount !== byId) {
          out.unreadOrderDiffs.push({
            conversationId: conv.id,
            userId: u.id,
            unreadCount: c.unreadCount,
            byId,
          });
        }
      }
    }
  });
  return out;
}

export interface LoadResult {
  connections: number;
  users: number;
  conversations: number;
  targetRate: number;
  durationSec: number;
  sent: number;
  acked: number;
  refused: number;
  unanswered: number;
  skippedSends: number;
  /** Sends not made because too many were unanswered (the runtime could not keep up with the rate). */
  backpressuredSends: number;
  errorsByCode: Record<string, number>;
  unexpectedCloses: number;
  /** Connections reopened after a server close, and messages they recovered from history (chaos only). */
  reconnects: number;
  filledFromHistory: number;
  closeCodes: Record<string, number>;
  nonContractFrames: number;
  nonContractSamples: string[];
  achievedSendRate: number;
  ackLatencyMs: ReturnType<typeof jsonSummary>;
  deliveryLatencyMs: ReturnType<typeof jsonSummary>;
  /** Distinct messages whose first delivery happened, per second of the window first send → last first delivery. */
  deliveredMsgPerSec: number;
  /** Delivery events (one per recipient connection) per second. */
  deliveriesPerSec: number;
  /** Acked messages verified in history, per second of the same window. */
  persistedMsgPerSec: number | null;
  deliveries: number;
  drainMs: number;
  drainComplete: boolean;
  lost: number;
  lostDeliveries: number;
  lostFromHistory: number;
  /** Duplicate deliveries (same id twice to one connection) + duplicates in history. */
  duplicated: number;
  duplicatedDeliveries: number;
  duplicatedInHistory: number;
  history: HistoryCheck | null;
}

/** Account for every message of a run: LOST, DUPLICATED and rates. */
export function summarizeLoad(
  conns: Connections,
  plan: { rate: number; durationSec: number; sendWindowMs: number; skipped: number; backpressured?: number },
  drain: { drainedMs: number; complete: boolean },
  history: HistoryCheck | null,
): LoadResult {
  let lostDeliveries = 0;
  const lostSeqs = new Set<number>();
  let firstSent = Number.POSITIVE_INFINITY;
  let lastFirstDelivery = 0;
  let lastDelivery = 0;
  let delivered = 0;
  let unanswered = 0;
  for (const m of conns.sent) {
    firstSent = Math.min(firstSent, m.sentAt);
    if (m.ackAt === 0 && m.errorCode === null) unanswered++;
    if (m.firstDeliveryAt) {
      delivered++;
      lastFirstDelivery = Math.max(lastFirstDelivery, m.firstDeliveryAt);
      lastDelivery = Math.max(lastDelivery, m.lastDeliveryAt);
    }
    if (m.ackAt === 0) continue;
    for (const c of conns.expectedRecipients(m)) {
      if (!c.received.has(m.seq)) {
        lostDeliveries++;
        lostSeqs.add(m.seq);
      }
    }
  }
  const lostFromHistory = history?.missingFromHistory ?? 0;
  // A message missing from history but delivered counts once in LOST via the history count.
  const lost = lostSeqs.size + lostFromHistory;
  const window = (lastFirstDelivery - firstSent) / 1000;
  const deliveryWindow = (lastDelivery - firstSent) / 1000;
  const c = conns.counters;
  const persisted = history ? c.acked - history.missingFromHistory : null;
  return {
    connections: conns.conns.length,
    users: conns.world.users.length,
    conversations: conns.world.conversations.length,
    targetRate: plan.rate,
    durationSec: plan.durationSec,
    sent: c.sent,
    acked: c.acked,
    refused: c.refused,
    unanswered,
    skippedSends: plan.skipped,
    backpressuredSends: plan.backpressured ?? 0,
    errorsByCode: c.errorsByCode,
    unexpectedCloses: c.unexpectedCloses,
    reconnects: c.reconnects,
    filledFromHistory: c.filledFromHistory,
    closeCodes: c.closeCodes,
    nonContractFrames: c.nonContractFrames,
    nonContractSamples: c.nonContractSamples,
    achievedSendRate: Math.round(c.sent / (plan.sendWindowMs / 1000)),
    ackLatencyMs: jsonSummary(conns.ackLatency.summary()),
    deliveryLatencyMs: jsonSummary(conns.deliveryLatency.summary()),
    deliveredMsgPerSec: window > 0 ? Math.round(delivered / window) : 0,
    deliveriesPerSec: deliveryWindow > 0 ? Math.round(c.deliveries / deliveryWindow) : 0,
    persistedMsgPerSec: persisted !== null && window > 0 ? Math.round(persisted / window) : null,
    deliveries: c.deliveries,
    drainMs: Math.round(drain.drainedMs),
    drainComplete: drain.complete,
    lost,
    lostDeliveries,
    lostFromHistory,
    duplicated: c.duplicates + (history?.duplicatedInHistory ?? 0),
    duplicatedDeliveries: c.duplicates,
    duplicatedInHistory: history?.duplicatedInHistory ?? 0,
    history,
  };
}
