import type {
  Conversation,
  CreateConversationBody,
  Message,
  ServerEvent,
  User,
} from '@chat/functions/contracts';
import { describeError } from '../api/errors.ts';
import type { KeyValueStorage } from '../api/session.ts';
import type { OpenInfo } from '../realtime/socket.ts';
import { HistoryController } from './history.ts';
import type { Outgoing } from './outbox.ts';
import type { ChatApi, ChatRealtime, Notifier, StoreContext } from './ports.ts';
import { ReadController } from './reading.ts';
import { loadOutbox, SendController, saveOutbox } from './sending.ts';
import { type ChatAction, type ChatState, initialState, reduce, TYPING_SHOW_MS } from './state.ts';
import { TypingController } from './typing.ts';

export type { ChatApi, ChatRealtime, Notifier } from './ports.ts';
export type { ChatAction, ChatState, Thread } from './state.ts';

type ChangeFn = (s: ChatState) => ChatState;

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

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The client's state and behaviour for one signed-in user, observed by the hooks through
 * `subscribe`/`getState`. The state changes only through the pure reducer (`state.ts`); the store routes the
 * realtime events and the user's actions to it and to the controllers that talk to the network: sending and
 * the outbox (`sending.ts`), timelines (`history.ts`), read receipts (`reading.ts`), my typing (`typing.ts`).
 * The conversation list and presence are loaded here.
 */
export class ChatStore {
  private state: ChatState;
  private readonly listeners = new Set<() => void>();
  private readonly detach: Array<() => void> = [];
  private readonly ctx: StoreContext;
  private readonly sending: SendController;
  private readonly history: HistoryController;
  private readonly reading: ReadController;
  private readonly typingOut: TypingController;
  private sweepTimer: ReturnType<typeof setInterval> | null = null;
  private changes: Promise<void> = Promise.resolve();
  private started = false;

  constructor(private readonly opts: ChatStoreOptions) {
    this.state = initialState(opts.me, opts.realtime.getState(), loadOutbox(opts.storage, opts.me.id));
    this.ctx = {
      getState: this.getState,
      dispatch: (action) => this.dispatch(action),
      api: opts.api,
      realtime: opts.realtime,
      now: opts.now ?? Date.now,
    };
    this.sending = new SendController(this.ctx, { newId: opts.newId, ackTimeoutMs: opts.ackTimeoutMs });
    this.reading = new ReadController(this.ctx, opts.isVisible);
    this.history = new HistoryController(this.ctx, opts.pageSize ?? 50, (id) =>
      this.reading.maybeMarkRead(id),
    );
    this.typingOut = new TypingController(this.ctx);
  }

  // ── observable ────────────────────────────────────────────────────────────────────────────────────────

  getState = (): ChatState => this.state;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  private dispatch(action: ChatAction): void {
    const prev = this.state;
    const next = reduce(prev, action);
    if (next === prev) return;
    this.state = next;
    if (next.outbox !== prev.outbox) saveOutbox(this.opts.storage, this.opts.me.id, next.outbox);
    for (const l of this.listeners) l();
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────────────────────────────

  start(): void {
    if (this.started) return;
    this.started = true;
    const { realtime } = this.opts;
    this.detach.push(
      realtime.onEvent((e) => this.handleEvent(e)),
      realtime.onOpen((info) => void this.handleOpen(info)),
      realtime.onState((connection) => this.dispatch({ type: 'connection', connection })),
    );
    this.sweepTimer = setInterval(() => this.sweep(), 1_000);
    void this.loadConversations();
    realtime.start();
  }

  stop(): void {
    this.started = false;
    for (const d of this.detach.splice(0)) d();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.typingOut.stop();
    this.reading.stop();
    this.sending.stop();
    this.opts.realtime.stop();
  }

  /** Skips the backoff wait ("Retry now"). */
  reconnectNow(): void {
    this.opts.realtime.reconnectNow();
  }

  // ── conversations and presence ────────────────────────────────────────────────────────────────────────

  /** The first page of conversations (or the page after `cursor`). */
  async loadConversations(cursor?: string): Promise<void> {
    try {
      const { conversations: list, nextCursor } = await this.opts.api.listConversations(cursor);
      this.dispatch({ type: 'conversations/loaded', list, nextCursor });
      void this.refreshPresence(list.flatMap((c) => c.members.map((m) => m.id)));
      if (this.state.activeId) this.reading.maybeMarkRead(this.state.activeId);
    } catch (e) {
      this.dispatch({ type: 'conversations/failed', error: describeError(e) });
    }
  }

  /** Runs `work` with the store's context: for controllers loaded on first use (`paging.ts`). */
  with<T>(work: (ctx: StoreContext) => T): T {
    return work(this.ctx);
  }

  async createDm(peerId: string): Promise<Conversation> {
    return this.create({ type: 'dm', peerId });
  }

  async createGroup(title: string, memberIds: string[]): Promise<Conversation> {
    return this.create({ type: 'group', title, memberIds });
  }

  private async create(body: CreateConversationBody): Promise<Conversation> {
    const c = await this.opts.api.createConversation(body);
    this.dispatch({ type: 'conversation/added', conversation: c });
    void this.refreshPresence(c.members.map((m) => m.id));
    return c;
  }

  private async ensureConversation(id: string): Promise<Conversation | null> {
    const known = this.state.conversations[id];
    if (known) return known;
    try {
      const c = await this.opts.api.getConversation(id);
      this.dispatch({ type: 'conversation/added', conversation: c });
      void this.refreshPresence(c.members.map((m) => m.id));
      return this.state.conversations[c.id] ?? c;
    } catch {
      return null;
    }
  }

  /** Shows a conversation as muted or not (the request itself: lib/chat/mute.ts, loaded with the view). */
  setMuted(id: string, muted: boolean): void {
    this.dispatch({ type: 'conversation/muted', id, muted });
  }

  private async refreshPresence(userIds: string[]): Promise<void> {
    const ids = [...new Set(userIds)].filter((id) => id !== this.state.me.id);
    try {
      for (const part of chunk(ids, 100)) {
        this.dispatch({ type: 'presence', list: await this.opts.api.presence(part) });
      }
    } catch {
      // presence events keep it current anyway
    }
  }

  // ── the open conversation ─────────────────────────────────────────────────────────────────────────────

  /**
   * Shows a conversation: loads its newest page (the first time, or to replace a cached one) and its receipts,
   * and marks it read.
   */
  open(id: string | null): void {
    if (this.state.activeId === id) return;
    this.dispatch({ type: 'open', id });
    if (!id) return;
    void this.ensureConversation(id);
    const t = this.state.threads[id];
    // a timeline restored from the cache (cache.ts) shows at once and is loaded all the same
    if (!t || t.status === 'error' || t.cachedIds) void this.loadLatest(id);
    void this.reading.loadReceipts(id);
    this.reading.maybeMarkRead(id);
  }

  /** The view reports whether the newest message is in sight; reading happens only then. */
  setAtBottom(id: string, atBottom: boolean): void {
    this.reading.setAtBottom(id, atBottom);
  }

  /** The page became visible again. */
  visibilityChanged(): void {
    if (this.state.activeId) this.reading.maybeMarkRead(this.state.activeId);
  }

  loadLatest(id: string): Promise<void> {
    return this.history.loadLatest(id);
  }

  /** The next older page (scrolling up; `paging.ts`, loaded on first use). */
  loadOlder(id: string): Promise<void> {
    return import('./paging.ts').then((m) => m.loadOlder(this.ctx, id, this.opts.pageSize ?? 50));
  }

  /** Everything after `from` (default: the newest message held), e.g. what was missed while away. */
  fillGap(id: string, from?: string | null): Promise<void> {
    return this.history.fillGap(id, from);
  }

  // ── sending and typing ────────────────────────────────────────────────────────────────────────────────

  /**
   * Optimistic send: the message shows at once as pending and goes out when a socket is open. With `extras`
   * from `changes.ts`: a reply, attachments, or a change to a message (edit, delete, reaction), which waits in
   * the outbox and goes out in order the same way.
   */
  send(conversationId: string, body: string, extras?: Partial<Outgoing>): string | null {
    const id = this.sending.send(conversationId, body, extras);
    if (id) this.typingOut.endedBySend(conversationId);
    return id;
  }

  /**
   * Applies a change computed by `changes.ts`, which loads on first use. Changes apply in the order they were
   * asked for: one that waits for a history page holds back the events that came after it.
   */
  applyChange(fn: (c: typeof import('./changes.ts')) => ChangeFn | Promise<ChangeFn>): Promise<void> {
    this.changes = this.changes
      .then(async () => this.dispatch({ type: 'change', apply: await fn(await import('./changes.ts')) }))
      .catch(() => undefined);
    return this.changes;
  }

  retry(clientMsgId: string): void {
    this.sending.retry(clientMsgId);
  }

  discard(clientMsgId: string): void {
    this.sending.discard(clientMsgId);
  }

  /** Called on each keystroke: the others see "typing…" until a pause, a send or a blur. */
  noteTyping(conversationId: string): void {
    this.typingOut.noteTyping(conversationId);
  }

  stopTyping(conversationId: string): void {
    this.typingOut.stopTyping(conversationId);
  }

  // ── the realtime connection ───────────────────────────────────────────────────────────────────────────

  private async handleOpen(info: OpenInfo): Promise<void> {
    // where each open timeline stood when the connection came back: the gap starts there
    const marks = this.history.marks();
    this.sending.resendAll();
    if (!info.reconnect) return;
    // the messages on screen as they are now (edited, deleted, reacted to while away); events that come
    // meanwhile apply after this page
    void this.applyChange((c) => c.refresh(this.opts.api, this.state.activeId));
    // what happened while we were away
    await this.loadConversations();
    await Promise.all(marks.map(([id, from]) => this.fillGap(id, from).catch(() => undefined)));
    if (this.state.activeId) void this.reading.loadReceipts(this.state.activeId);
  }

  handleEvent(e: ServerEvent): void {
    switch (e.type) {
      case 'message':
        // the latency trace in the console (trace.ts, loaded only then), with the time now and the state before
        // the message settles the outbox (it holds my send time)
        if (e.trace && this.opts.storage?.getItem('chat:trace') === '1') {
          const { state } = this;
          const at = this.ctx.now();
          import('./trace.ts').then(
            (t) => t.logEventTrace(e, state, at),
            () => 0,
          );
        }
        void this.handleMessage(e.message);
        break;
      case 'ack':
        this.sending.acked(e.clientMsgId);
        break;
      case 'receipt': {
        const { conversationId, userId, lastReadId, readAt } = e;
        this.dispatch({ type: 'receipt', conversationId, receipt: { userId, lastReadId, readAt } });
        break;
      }
      case 'typing':
        if (e.userId === this.state.me.id) break;
        this.dispatch({
          type: 'typing',
          conversationId: e.conversationId,
          userId: e.userId,
          until: e.state === 'start' ? this.ctx.now() + TYPING_SHOW_MS : null,
        });
        break;
      case 'presence': {
        const { userId, online, lastSeenAt } = e;
        this.dispatch({ type: 'presence', list: [{ userId, online, lastSeenAt }] });
        break;
      }
      case 'conversation':
        this.dispatch({ type: 'conversation/added', conversation: e.conversation });
        void this.refreshPresence(e.conversation.members.map((m) => m.id));
        break;
      case 'error':
        if (e.code === 'rate_limited') this.sending.rateLimited();
        else if (e.clientMsgId) this.sending.refused(e.clientMsgId, { code: e.code, message: e.message });
        break;
      case 'pong':
        break;
      default:
        // messageUpdated, reaction: changes.ts
        void this.applyChange((c) => (s) => c.applyEvent(s, e));
    }
  }

  private async handleMessage(message: Message): Promise<void> {
    const id = message.conversationId;
    let before = this.state.conversations[id];
    this.dispatch({ type: 'message/live', message, seen: this.reading.isSeen(id) });
    if (!before) {
      // a conversation this client did not know yet (a new DM or group): fetch it, then its list row
      if (!(await this.ensureConversation(id))) return;
      before = this.state.conversations[id];
      this.dispatch({ type: 'message/summary', message, seen: this.reading.isSeen(id) });
    }
    const after = this.state.conversations[id];
    // nothing new for the list row (a redelivery, an older message), or my own
    if (!after || after === before || message.senderId === this.state.me.id) return;
    if (this.reading.isSeen(id)) this.reading.maybeMarkRead(id);
    else this.notify(after, message);
  }

  private notify(conv: Conversation, message: Message): void {
    if (!this.opts.notifier) return;
    // a muted conversation notifies only of mentions of me (as Web Push does); its unread still counts
    if (conv.muted && !message.mentions?.includes(this.state.me.id)) return;
    this.opts.notifier.notify(conv, message);
  }

  /** Once a second: expire typing indicators, resend or fail sends that got no ack. */
  private sweep(): void {
    const now = this.ctx.now();
    this.dispatch({ type: 'typing/expire', now });
    this.sending.sweep(now);
  }
}
