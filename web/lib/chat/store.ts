import type {
  Conversation,
  CreateConversationBody,
  Message,
  Presence,
  Receipt,
  ServerEvent,
  User,
} from '@chat/functions/contracts';
import { limits } from '@chat/functions/contracts';
import type { ApiClient } from '../api/client.ts';
import { describeError } from '../api/errors.ts';
import type { KeyValueStorage } from '../api/session.ts';
import type { ConnectionState, OpenInfo, RealtimeClient } from '../realtime/socket.ts';
import { previewText } from './format.ts';
import {
  applyMessageToConversation,
  compareIds,
  conversationTitle,
  maxId,
  mergeMessages,
  newestId,
} from './messages.ts';
import type { Outbox } from './outbox.ts';
import * as outboxOps from './outbox.ts';

export interface Thread {
  messages: readonly Message[];
  status: 'loading' | 'ready' | 'error';
  /** Cursor for the next older page; null when the beginning is reached. */
  cursor: string | null;
  hasMore: boolean;
  loadingOlder: boolean;
  error: string | null;
}

export interface ChatState {
  me: User;
  connection: ConnectionState;
  listStatus: 'loading' | 'ready' | 'error';
  listError: string | null;
  conversations: Readonly<Record<string, Conversation>>;
  threads: Readonly<Record<string, Thread>>;
  /** conversationId → userId → that member's read pointer */
  receipts: Readonly<Record<string, Readonly<Record<string, Receipt>>>>;
  presence: Readonly<Record<string, Presence>>;
  /** conversationId → userId → epoch ms when the indicator expires */
  typing: Readonly<Record<string, Readonly<Record<string, number>>>>;
  outbox: Outbox;
  activeId: string | null;
}

export type ChatApi = Pick<
  ApiClient,
  | 'listConversations'
  | 'getConversation'
  | 'createConversation'
  | 'history'
  | 'markRead'
  | 'receipts'
  | 'presence'
>;
export type ChatRealtime = Pick<
  RealtimeClient,
  'start' | 'stop' | 'send' | 'isOpen' | 'getState' | 'onEvent' | 'onOpen' | 'onState' | 'reconnectNow'
>;

export interface Notifier {
  /** Shows a system notification if the page is hidden and the user allowed it; `tag` is the conversation. */
  notify(input: { title: string; body: string; tag: string }): void;
}

export interface ChatStoreOptions {
  me: User;
  api: ChatApi;
  realtime: ChatRealtime;
  storage?: KeyValueStorage;
  notifier?: Notifier;
  /** Is the page visible to the user? */
  isVisible?: () => boolean;
  newId?: () => string;
  now?: () => number;
  ackTimeoutMs?: number;
  pageSize?: number;
}

const TYPING_SHOW_MS = 6_000;
const TYPING_RESEND_MS = 3_000;
const TYPING_IDLE_MS = 4_000;
const TYPING_MIN_GAP_MS = 1_000;

/** My typing state towards the others in one conversation. */
interface TypingOut {
  /** What the user is doing now. */
  want: boolean;
  /** What the others were last told. */
  told: boolean;
  lastFrameAt: number;
  lastStartAt: number;
  idleTimer: ReturnType<typeof setTimeout> | null;
  paceTimer: ReturnType<typeof setTimeout> | null;
}
const GAP_PAGE = limits.historyPageMax;
const GAP_MAX_PAGES = 20;
const READ_COALESCE_MS = 250;
/** Automatic resends of an unacknowledged message (same clientMsgId) before it shows as failed. */
const AUTO_RESENDS = 2;

function randomId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The client's state and behaviour for one signed-in user: conversations, timelines, receipts, presence,
 * typing and the outbox, kept current from the HTTP API and the realtime events. Plain TypeScript (no React),
 * observed by the hooks through `subscribe`/`getState`.
 */
export class ChatStore {
  private state: ChatState;
  private readonly listeners = new Set<() => void>();
  private readonly detach: Array<() => void> = [];
  private readonly api: ChatApi;
  private readonly realtime: ChatRealtime;
  private readonly opts: ChatStoreOptions;
  private readonly now: () => number;
  private readonly atBottom = new Map<string, boolean>();
  private readonly typingOut = new Map<string, TypingOut>();
  private readonly inflight = new Map<string, Promise<void>>();
  private sweepTimer: ReturnType<typeof setInterval> | null = null;
  private readonly readPending = new Map<string, string>();
  private readonly readTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private rateRetry: ReturnType<typeof setTimeout> | null = null;
  private started = false;

  constructor(options: ChatStoreOptions) {
    this.opts = options;
    this.api = options.api;
    this.realtime = options.realtime;
    this.now = options.now ?? Date.now;
    this.state = {
      me: options.me,
      connection: options.realtime.getState(),
      listStatus: 'loading',
      listError: null,
      conversations: {},
      threads: {},
      receipts: {},
      presence: {},
      typing: {},
      outbox: this.loadOutbox(),
      activeId: null,
    };
  }

  // ── observable ────────────────────────────────────────────────────────────────────────────────────────

  getState = (): ChatState => this.state;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  private set(patch: Partial<ChatState>): void {
    const prevOutbox = this.state.outbox;
    this.state = { ...this.state, ...patch };
    if (patch.outbox && patch.outbox !== prevOutbox) this.saveOutbox();
    for (const l of this.listeners) l();
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────────────────────────────

  start(): void {
    if (this.started) return;
    this.started = true;
    this.detach.push(
      this.realtime.onEvent((e) => this.handleEvent(e)),
      this.realtime.onOpen((info) => void this.handleOpen(info)),
      this.realtime.onState((connection) => this.set({ connection })),
    );
    this.sweepTimer = setInterval(() => this.sweep(), 1_000);
    void this.loadConversations();
    this.realtime.start();
  }

  stop(): void {
    this.started = false;
    for (const d of this.detach.splice(0)) d();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const t of this.typingOut.values()) {
      if (t.idleTimer) clearTimeout(t.idleTimer);
      if (t.paceTimer) clearTimeout(t.paceTimer);
    }
    for (const t of this.readTimers.values()) clearTimeout(t);
    this.readTimers.clear();
    if (this.rateRetry) clearTimeout(this.rateRetry);
    this.typingOut.clear();
    this.realtime.stop();
  }

  /** Skips the backoff wait ("Retry now"). */
  reconnectNow(): void {
    this.realtime.reconnectNow();
  }

  // ── conversations ─────────────────────────────────────────────────────────────────────────────────────

  async loadConversations(): Promise<void> {
    try {
      const list = await this.api.listConversations();
      const conversations: Record<string, Conversation> = {};
      for (const c of list) {
        const known = this.state.conversations[c.id];
        // a live message may have arrived while the list was in flight
        conversations[c.id] =
          known?.lastMessage && (!c.lastMessage || compareIds(known.lastMessage.id, c.lastMessage.id) > 0)
            ? { ...c, lastMessage: known.lastMessage, updatedAt: known.updatedAt }
            : c;
      }
      for (const [id, c] of Object.entries(this.state.conversations)) conversations[id] ??= c;
      this.set({ conversations, listStatus: 'ready', listError: null });
      void this.refreshPresence(list.flatMap((c) => c.members.map((m) => m.id)));
      if (this.state.activeId) this.maybeMarkRead(this.state.activeId);
    } catch (e) {
      if (this.state.listStatus !== 'ready') this.set({ listStatus: 'error', listError: describeError(e) });
    }
  }

  private upsertConversation(c: Conversation): void {
    this.set({ conversations: { ...this.state.conversations, [c.id]: c } });
  }

  async createDm(peerId: string): Promise<Conversation> {
    return this.create({ type: 'dm', peerId });
  }

  async createGroup(title: string, memberIds: string[]): Promise<Conversation> {
    return this.create({ type: 'group', title, memberIds });
  }

  private async create(body: CreateConversationBody): Promise<Conversation> {
    const c = await this.api.createConversation(body);
    this.upsertConversation(this.state.conversations[c.id] ?? c);
    void this.refreshPresence(c.members.map((m) => m.id));
    return c;
  }

  private async ensureConversation(id: string): Promise<Conversation | null> {
    const known = this.state.conversations[id];
    if (known) return known;
    try {
      const c = await this.api.getConversation(id);
      if (!this.state.conversations[c.id]) this.upsertConversation(c);
      void this.refreshPresence(c.members.map((m) => m.id));
      return this.state.conversations[c.id] ?? c;
    } catch {
      return null;
    }
  }

  // ── the open conversation ─────────────────────────────────────────────────────────────────────────────

  /** Shows a conversation: loads its newest page and receipts the first time, and marks it read. */
  open(id: string | null): void {
    if (this.state.activeId === id) return;
    this.set({ activeId: id });
    if (!id) return;
    void this.ensureConversation(id);
    if (!this.state.threads[id] || this.state.threads[id]?.status === 'error') void this.loadLatest(id);
    void this.loadReceipts(id);
    this.maybeMarkRead(id);
  }

  /** The view reports whether the newest message is in sight; reading happens only then. */
  setAtBottom(id: string, atBottom: boolean): void {
    this.atBottom.set(id, atBottom);
    if (atBottom) this.maybeMarkRead(id);
  }

  /** The page became visible again. */
  visibilityChanged(): void {
    if (this.state.activeId) this.maybeMarkRead(this.state.activeId);
  }

  private patchThread(id: string, patch: Partial<Thread>): void {
    const prev: Thread = this.state.threads[id] ?? {
      messages: [],
      status: 'loading',
      cursor: null,
      hasMore: true,
      loadingOlder: false,
      error: null,
    };
    this.set({ threads: { ...this.state.threads, [id]: { ...prev, ...patch } } });
  }

  private once(key: string, fn: () => Promise<void>): Promise<void> {
    const running = this.inflight.get(key);
    if (running) return running;
    const p = fn().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  loadLatest(id: string): Promise<void> {
    return this.once(`latest:${id}`, async () => {
      this.patchThread(id, { status: 'loading', error: null });
      try {
        const page = await this.api.history(id, { limit: this.opts.pageSize ?? 50 });
        this.receiveMessages(id, page.messages);
        this.patchThread(id, { status: 'ready', cursor: page.nextCursor, hasMore: page.nextCursor !== null });
        this.maybeMarkRead(id);
      } catch (e) {
        this.patchThread(id, { status: 'error', error: describeError(e) });
      }
    });
  }

  /** The next older page (scrolling up). */
  loadOlder(id: string): Promise<void> {
    const t = this.state.threads[id];
    if (t?.status !== 'ready' || !t.hasMore || t.loadingOlder) return Promise.resolve();
    return this.once(`older:${id}`, async () => {
      this.patchThread(id, { loadingOlder: true });
      try {
        const before = t.cursor ?? t.messages[0]?.id;
        const page = await this.api.history(id, { before, limit: this.opts.pageSize ?? 50 });
        this.receiveMessages(id, page.messages);
        this.patchThread(id, {
          loadingOlder: false,
          cursor: page.nextCursor,
          hasMore: page.nextCursor !== null,
        });
      } catch (e) {
        this.patchThread(id, { loadingOlder: false, error: describeError(e) });
      }
    });
  }

  /**
   * After a reconnect: everything after `from` (the newest message held when the connection came back,
   * before any live event of the new connection), page by page, oldest first. Starting from the newest
   * message held *now* would skip what was missed if a live message (e.g. my own resent one) came first.
   */
  fillGap(id: string, from?: string | null): Promise<void> {
    return this.once(`gap:${id}`, async () => {
      let after = from ?? newestId(this.state.threads[id]?.messages ?? []);
      if (!after) return this.loadLatest(id);
      for (let i = 0; i < GAP_MAX_PAGES; i++) {
        const page = await this.api.history(id, { after, limit: GAP_PAGE });
        this.receiveMessages(id, page.messages);
        if (page.messages.length < GAP_PAGE) break;
        after = page.messages.reduce<string>((max, m) => (compareIds(m.id, max) > 0 ? m.id : max), after);
      }
      this.maybeMarkRead(id);
    });
  }

  private async loadReceipts(id: string): Promise<void> {
    try {
      const list = await this.api.receipts(id);
      const current = { ...(this.state.receipts[id] ?? {}) };
      for (const r of list) {
        const known = current[r.userId];
        if (!known || compareIds(r.lastReadId, known.lastReadId) > 0) current[r.userId] = r;
      }
      this.set({ receipts: { ...this.state.receipts, [id]: current } });
    } catch {
      // receipts are decoration; the next receipt event fills them in
    }
  }

  private async refreshPresence(userIds: string[]): Promise<void> {
    const ids = [...new Set(userIds)].filter((id) => id !== this.state.me.id);
    try {
      for (const part of chunk(ids, 100)) {
        const list = await this.api.presence(part);
        const presence = { ...this.state.presence };
        for (const p of list) presence[p.userId] = p;
        this.set({ presence });
      }
    } catch {
      // presence events keep it current anyway
    }
  }

  /** Messages from history or events into the timeline, the list row and the outbox. */
  private receiveMessages(id: string, messages: readonly Message[]): void {
    if (messages.length === 0) return;
    const thread = this.state.threads[id];
    const patch: Partial<ChatState> = {};
    if (thread) {
      const merged = mergeMessages(thread.messages, messages);
      if (merged !== thread.messages)
        patch.threads = { ...this.state.threads, [id]: { ...thread, messages: merged } };
    }
    const outbox = outboxOps.settle(this.state.outbox, messages, this.state.me.id);
    if (outbox !== this.state.outbox) patch.outbox = outbox;
    if (Object.keys(patch).length) this.set(patch);
  }

  private isSeen(id: string): boolean {
    const visible = this.opts.isVisible ? this.opts.isVisible() : true;
    return this.state.activeId === id && visible && this.atBottom.get(id) !== false;
  }

  private maybeMarkRead(id: string): void {
    if (!this.isSeen(id)) return;
    const conv = this.state.conversations[id];
    const thread = this.state.threads[id];
    const latest = maxId(newestId(thread?.messages ?? []), conv?.lastMessage?.id);
    if (!latest) return;
    if (conv && conv.unreadCount === 0 && conv.lastReadId && compareIds(conv.lastReadId, latest) >= 0) return;
    if (conv)
      this.upsertConversation({ ...conv, unreadCount: 0, lastReadId: maxId(conv.lastReadId, latest) });
    // a burst of incoming messages makes one markRead, for the newest
    this.readPending.set(id, maxId(this.readPending.get(id), latest) as string);
    if (this.readTimers.has(id)) return;
    this.readTimers.set(
      id,
      setTimeout(() => {
        this.readTimers.delete(id);
        const messageId = this.readPending.get(id);
        this.readPending.delete(id);
        if (!messageId) return;
        if (!this.realtime.send({ action: 'markRead', conversationId: id, messageId })) {
          this.api.markRead(id, messageId).catch(() => {
            // the pointer moves on the next read anyway
          });
        }
      }, READ_COALESCE_MS),
    );
  }

  // ── sending ───────────────────────────────────────────────────────────────────────────────────────────

  /** Optimistic send: the message shows at once as pending and goes out when a socket is open. */
  send(conversationId: string, body: string): string | null {
    if (body.trim().length === 0 || body.length > limits.messageBodyMaxChars) return null;
    const clientMsgId = (this.opts.newId ?? randomId)();
    this.typingEndedBySend(conversationId);
    this.set({
      outbox: outboxOps.enqueue(this.state.outbox, {
        clientMsgId,
        conversationId,
        body,
        createdAt: this.now(),
      }),
    });
    this.flush();
    return clientMsgId;
  }

  retry(clientMsgId: string): void {
    this.set({ outbox: outboxOps.requeue(this.state.outbox, clientMsgId) });
    this.flush();
  }

  discard(clientMsgId: string): void {
    this.set({ outbox: outboxOps.remove(this.state.outbox, clientMsgId) });
  }

  /**
   * Writes queued messages to the socket, oldest first, one unacknowledged message per conversation at a
   * time: the server assigns ids (the order everyone sees) as sends arrive, and concurrent sends could be
   * ordered differently than typed, e.g. a burst written offline.
   */
  private flush(): void {
    if (!this.realtime.isOpen()) return;
    let outbox = this.state.outbox;
    const busy = new Set(outbox.filter((o) => o.status === 'sent').map((o) => o.conversationId));
    for (const o of outbox) {
      if (o.status !== 'queued' || busy.has(o.conversationId)) continue;
      const ok = this.realtime.send({
        action: 'sendMessage',
        conversationId: o.conversationId,
        clientMsgId: o.clientMsgId,
        body: o.body,
      });
      if (!ok) break;
      outbox = outboxOps.markSent(outbox, o.clientMsgId, this.now());
      busy.add(o.conversationId);
    }
    if (outbox !== this.state.outbox) this.set({ outbox });
  }

  private async handleOpen(info: OpenInfo): Promise<void> {
    // where each open timeline stood when the connection came back: the gap starts there
    const marks = Object.entries(this.state.threads)
      .filter(([, t]) => t.status === 'ready')
      .map(([id, t]) => [id, newestId(t.messages)] as const);
    // resend everything not yet persisted, with the same clientMsgId (the server never doubles it)
    let outbox = this.state.outbox;
    for (const o of outboxOps.toResend(outbox)) outbox = outboxOps.requeue(outbox, o.clientMsgId);
    if (outbox !== this.state.outbox) this.set({ outbox });
    this.flush();
    if (!info.reconnect) return;
    // what happened while we were away
    await this.loadConversations();
    await Promise.all(marks.map(([id, from]) => this.fillGap(id, from).catch(() => undefined)));
    if (this.state.activeId) void this.loadReceipts(this.state.activeId);
  }

  // ── typing ────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Called on each keystroke: the others see "typing…" until a pause, a send or a blur. Frames are paced
   * (one per TYPING_MIN_GAP_MS at most, the server forwards only a couple per second) and the latest wish
   * always goes out, so a quick stop-start is never lost.
   */
  noteTyping(conversationId: string): void {
    const t = this.typingState(conversationId);
    if (t.idleTimer) clearTimeout(t.idleTimer);
    t.idleTimer = setTimeout(() => this.stopTyping(conversationId), TYPING_IDLE_MS);
    t.want = true;
    if (!t.told || this.now() - t.lastStartAt > TYPING_RESEND_MS) this.flushTyping(conversationId);
  }

  stopTyping(conversationId: string): void {
    const t = this.typingOut.get(conversationId);
    if (!t) return;
    if (t.idleTimer) clearTimeout(t.idleTimer);
    t.idleTimer = null;
    t.want = false;
    if (t.told) this.flushTyping(conversationId);
  }

  /** A sent message ends my typing for the others (they clear it when it arrives): no stop frame needed. */
  private typingEndedBySend(conversationId: string): void {
    const t = this.typingOut.get(conversationId);
    if (!t) return;
    if (t.idleTimer) clearTimeout(t.idleTimer);
    t.idleTimer = null;
    t.want = false;
    t.told = false;
  }

  private typingState(conversationId: string): TypingOut {
    let t = this.typingOut.get(conversationId);
    if (!t) {
      t = { want: false, told: false, lastFrameAt: 0, lastStartAt: 0, idleTimer: null, paceTimer: null };
      this.typingOut.set(conversationId, t);
    }
    return t;
  }

  private flushTyping(conversationId: string): void {
    const t = this.typingState(conversationId);
    if (t.paceTimer) return; // the paced frame will carry the latest wish
    const wait = t.lastFrameAt + TYPING_MIN_GAP_MS - this.now();
    if (wait > 0) {
      t.paceTimer = setTimeout(() => {
        t.paceTimer = null;
        this.flushTyping(conversationId);
      }, wait);
      return;
    }
    const now = this.now();
    if (t.want && t.told && now - t.lastStartAt <= TYPING_RESEND_MS) return;
    if (!t.want && !t.told) return;
    const state = t.want ? 'start' : 'stop';
    if (!this.realtime.send({ action: 'typing', conversationId, state })) return;
    t.told = t.want;
    t.lastFrameAt = now;
    if (t.want) t.lastStartAt = now;
  }

  private setTyping(conversationId: string, userId: string, until: number | null): void {
    const current = this.state.typing[conversationId] ?? {};
    if (until === null && !(userId in current)) return;
    const next = { ...current };
    if (until === null) delete next[userId];
    else next[userId] = until;
    this.set({ typing: { ...this.state.typing, [conversationId]: next } });
  }

  // ── events ────────────────────────────────────────────────────────────────────────────────────────────

  handleEvent(e: ServerEvent): void {
    switch (e.type) {
      case 'message':
        return void this.handleMessage(e.message);
      case 'ack':
        this.set({ outbox: outboxOps.markAcked(this.state.outbox, e.clientMsgId) });
        this.flush();
        return;
      case 'receipt': {
        if (
          !this.bumpReceipt(e.conversationId, {
            userId: e.userId,
            lastReadId: e.lastReadId,
            readAt: e.readAt,
          })
        )
          return;
        const conv = this.state.conversations[e.conversationId];
        if (e.userId === this.state.me.id && conv) {
          // read on another device or tab
          const caughtUp = !conv.lastMessage || compareIds(e.lastReadId, conv.lastMessage.id) >= 0;
          this.upsertConversation({
            ...conv,
            lastReadId: maxId(conv.lastReadId, e.lastReadId),
            unreadCount: caughtUp ? 0 : conv.unreadCount,
          });
        }
        return;
      }
      case 'typing':
        if (e.userId === this.state.me.id) return;
        this.setTyping(e.conversationId, e.userId, e.state === 'start' ? this.now() + TYPING_SHOW_MS : null);
        return;
      case 'presence':
        this.set({
          presence: {
            ...this.state.presence,
            [e.userId]: { userId: e.userId, online: e.online, lastSeenAt: e.lastSeenAt },
          },
        });
        return;
      case 'conversation':
        if (!this.state.conversations[e.conversation.id]) this.upsertConversation(e.conversation);
        void this.refreshPresence(e.conversation.members.map((m) => m.id));
        return;
      case 'error':
        if (e.code === 'rate_limited') {
          // which frame was refused is not always said: resend every unacknowledged message a little later
          // (same clientMsgIds, so nothing doubles)
          this.rateRetry ??= setTimeout(
            () => {
              this.rateRetry = null;
              let outbox = this.state.outbox;
              for (const o of outbox)
                if (o.status === 'sent') outbox = outboxOps.requeue(outbox, o.clientMsgId);
              if (outbox !== this.state.outbox) this.set({ outbox });
              this.flush();
            },
            1_000 + Math.random() * 1_000,
          );
          return;
        }
        if (e.clientMsgId) {
          this.set({
            outbox: outboxOps.markFailed(this.state.outbox, e.clientMsgId, {
              code: e.code,
              message: e.message,
            }),
          });
        }
        return;
      case 'pong':
        return;
    }
  }

  /** Moves a member's read pointer forward (never back); false when it did not move. */
  private bumpReceipt(conversationId: string, receipt: Receipt): boolean {
    const current = this.state.receipts[conversationId] ?? {};
    const known = current[receipt.userId];
    if (known && compareIds(known.lastReadId, receipt.lastReadId) >= 0) return false;
    this.set({
      receipts: { ...this.state.receipts, [conversationId]: { ...current, [receipt.userId]: receipt } },
    });
    return true;
  }

  private async handleMessage(message: Message): Promise<void> {
    const id = message.conversationId;
    this.setTyping(id, message.senderId, null);
    // whoever writes has read what came before (the server moves the sender's pointer too, without a
    // receipt event): my earlier messages turn ✓✓ when the answer arrives
    if (message.senderId !== this.state.me.id) {
      this.bumpReceipt(id, { userId: message.senderId, lastReadId: message.id, readAt: message.sentAt });
    }
    this.receiveMessages(id, [message]);
    const conv = this.state.conversations[id] ?? (await this.ensureConversation(id));
    if (!conv) return;
    const latest = this.state.conversations[id] ?? conv;
    const seen = this.isSeen(id);
    const updated = applyMessageToConversation(latest, message, { myId: this.state.me.id, seen });
    if (updated !== latest) {
      this.upsertConversation(updated);
      if (message.senderId !== this.state.me.id) {
        if (seen) this.maybeMarkRead(id);
        else this.notify(updated, message);
      }
    }
  }

  private notify(conv: Conversation, message: Message): void {
    if (!this.opts.notifier) return;
    const sender = conv.members.find((m) => m.id === message.senderId);
    const title =
      conv.type === 'group'
        ? conversationTitle(conv, this.state.me.id)
        : (sender?.displayName ?? 'New message');
    const prefix = conv.type === 'group' && sender ? `${sender.displayName}: ` : '';
    this.opts.notifier.notify({
      title,
      body: `${prefix}${previewText(message.body)}`,
      tag: conv.id,
    });
  }

  /** Once a second: expire typing indicators, fail sends that got no ack. */
  private sweep(): void {
    const now = this.now();
    for (const [conv, users] of Object.entries(this.state.typing)) {
      for (const [user, until] of Object.entries(users)) if (until < now) this.setTyping(conv, user, null);
    }
    const late = outboxOps.timedOut(this.state.outbox, now, this.opts.ackTimeoutMs ?? 10_000);
    if (late.length) {
      let outbox = this.state.outbox;
      for (const id of late) {
        const o = outbox.find((x) => x.clientMsgId === id);
        outbox =
          o && o.attempts <= AUTO_RESENDS && this.realtime.isOpen()
            ? outboxOps.requeue(outbox, id)
            : outboxOps.markFailed(outbox, id, { code: 'timeout', message: 'Not delivered yet.' });
      }
      this.set({ outbox });
      this.flush();
    }
  }

  // ── persistence of the outbox (a reload does not lose what was typed offline) ─────────────────────────

  private outboxKey(): string {
    return `chat.outbox.v1.${this.opts.me.id}`;
  }

  private loadOutbox(): Outbox {
    const raw = this.opts.storage?.getItem(this.outboxKey());
    if (!raw) return [];
    try {
      const list = JSON.parse(raw) as outboxOps.Outgoing[];
      if (!Array.isArray(list)) return [];
      return list
        .filter((o) => typeof o?.clientMsgId === 'string' && typeof o.body === 'string')
        .map((o) => ({ ...o, status: o.status === 'failed' ? o.status : ('queued' as const) }));
    } catch {
      return [];
    }
  }

  private saveOutbox(): void {
    const s = this.opts.storage;
    if (!s) return;
    try {
      if (this.state.outbox.length === 0) s.removeItem(this.outboxKey());
      else s.setItem(this.outboxKey(), JSON.stringify(this.state.outbox));
    } catch {
      // quota: the outbox still lives in memory
    }
  }
}
