import { describeError } from '../api/errors.ts';
import { limits } from '../limits.ts';
import { compareIds, newestId } from './messages.ts';
import type { StoreContext } from './ports.ts';

const GAP_PAGE = limits.historyPageMax;
const GAP_MAX_PAGES = 20;

/**
 * Timelines from the HTTP API: the newest page, and after a reconnect the gap since the connection was lost
 * (older pages while scrolling up: `paging.ts`, loaded on first use). One request of a kind per conversation at
 * a time.
 */
export class HistoryController {
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(
    private readonly ctx: StoreContext,
    private readonly pageSize: number,
    /** Called when a timeline got newer messages (they may be read now). */
    private readonly onNewer: (id: string) => void,
  ) {}

  private once(key: string, fn: () => Promise<void>): Promise<void> {
    const running = this.inflight.get(key);
    if (running) return running;
    const p = fn().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  loadLatest(id: string): Promise<void> {
    return this.once(`latest:${id}`, async () => {
      const { dispatch, api } = this.ctx;
      // a timeline restored from the cache stays as it is (no "Loading…") until the page replaces it
      if (!this.ctx.getState().threads[id]?.cachedIds)
        dispatch({ type: 'thread/patch', id, patch: { status: 'loading', error: null } });
      try {
        const page = await api.history(id, { limit: this.pageSize });
        dispatch({ type: 'messages', conversationId: id, messages: page.messages, latest: true });
        dispatch({
          type: 'thread/patch',
          id,
          patch: { status: 'ready', cursor: page.nextCursor, hasMore: page.nextCursor !== null },
        });
        this.onNewer(id);
      } catch (e) {
        dispatch({ type: 'thread/patch', id, patch: { status: 'error', error: describeError(e) } });
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
      let after = from ?? newestId(this.ctx.getState().threads[id]?.messages ?? []);
      if (!after) return this.loadLatest(id);
      for (let i = 0; i < GAP_MAX_PAGES; i++) {
        const page = await this.ctx.api.history(id, { after, limit: GAP_PAGE });
        this.ctx.dispatch({ type: 'messages', conversationId: id, messages: page.messages });
        if (page.messages.length < GAP_PAGE) break;
        after = page.messages.reduce<string>((max, m) => (compareIds(m.id, max) > 0 ? m.id : max), after);
      }
      this.onNewer(id);
    });
  }

  /** Where each loaded timeline stands now (its newest message): the gaps start there after a reconnect. */
  marks(): Array<readonly [string, string | null]> {
    return Object.entries(this.ctx.getState().threads)
      .filter(([, t]) => t.status === 'ready')
      .map(([id, t]) => [id, newestId(t.messages)] as const);
  }
}
