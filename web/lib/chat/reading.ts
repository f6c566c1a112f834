import { compareIds, maxId, newestId } from './messages.ts';
import type { StoreContext } from './ports.ts';

const READ_COALESCE_MS = 250;

/**
 * Read receipts, mine and the others': a conversation is read only while it is open, the page is visible and
 * its newest message is in sight; a burst of incoming messages makes one markRead (over the socket, or the
 * HTTP API when it is down), for the newest.
 */
export class ReadController {
  private readonly atBottom = new Map<string, boolean>();
  private readonly pending = new Map<string, string>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly ctx: StoreContext,
    private readonly isVisible: () => boolean = () => true,
  ) {}

  /** The view reports whether the newest message is in sight; reading happens only then. */
  setAtBottom(id: string, atBottom: boolean): void {
    this.atBottom.set(id, atBottom);
    if (atBottom) this.maybeMarkRead(id);
  }

  /** Is a message arriving in this conversation seen right away? */
  isSeen(id: string): boolean {
    return this.ctx.getState().activeId === id && this.isVisible() && this.atBottom.get(id) !== false;
  }

  maybeMarkRead(id: string): void {
    if (!this.isSeen(id)) return;
    const state = this.ctx.getState();
    const conv = state.conversations[id];
    const latest = maxId(newestId(state.threads[id]?.messages ?? []), conv?.lastMessage?.id);
    if (!latest) return;
    if (conv && conv.unreadCount === 0 && conv.lastReadId && compareIds(conv.lastReadId, latest) >= 0) return;
    this.ctx.dispatch({ type: 'read', conversationId: id, messageId: latest });
    this.pending.set(id, maxId(this.pending.get(id), latest) as string);
    if (this.timers.has(id)) return;
    this.timers.set(
      id,
      setTimeout(() => this.send(id), READ_COALESCE_MS),
    );
  }

  private send(id: string): void {
    this.timers.delete(id);
    const messageId = this.pending.get(id);
    this.pending.delete(id);
    if (!messageId) return;
    if (!this.ctx.realtime.send({ action: 'markRead', conversationId: id, messageId })) {
      this.ctx.api.markRead(id, messageId).catch(() => {
        // the pointer moves on the next read anyway
      });
    }
  }

  /** The members' read pointers of a conversation (when it is opened, after a reconnect). */
  async loadReceipts(id: string): Promise<void> {
    try {
      const receipts = await this.ctx.api.receipts(id);
      this.ctx.dispatch({ type: 'receipts/loaded', conversationId: id, receipts });
    } catch {
      // receipts are decoration; the next receipt event fills them in
    }
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
