import type { MembersResponse, User } from '@chat/functions/contracts';
import { describeError } from '../api/errors.ts';
import type { StoreContext } from './ports.ts';
import type { ChatStore } from './store.ts';

/**
 * The conversation list's next pages, a timeline's older pages and a group's whole member list: loaded on first
 * use (off the first load of /chat), by the end of the list (`MoreConversations.tsx`), `store.loadOlder` and the
 * timeline (`MessageList.tsx`, through `store.with`). A `conversation` carries only its first members
 * (docs/protocol.md).
 */

const paging = new WeakSet<ChatStore>();

/** The next page of the list, if there is one and it is not on its way already. */
export async function loadMore(store: ChatStore): Promise<void> {
  const cursor = store.getState().listCursor;
  if (!cursor || paging.has(store)) return;
  paging.add(store);
  await store.loadConversations(cursor);
  paging.delete(store);
}

const loading = new WeakMap<StoreContext, Set<string>>();

/**
 * A group's members, every page: when it is opened and some are missing, or when a message comes from a sender
 * not in the list (added since). At most one load per conversation at a time; a failure leaves the names as
 * they were until the next try.
 */
export async function loadMembers(ctx: StoreContext, id: string, senderId?: string): Promise<void> {
  const c = ctx.getState().conversations[id];
  const busy = loading.get(ctx) ?? new Set<string>();
  loading.set(ctx, busy);
  if (
    c?.type !== 'group' ||
    busy.has(id) ||
    (senderId ? c.members.some((m) => m.id === senderId) : c.members.length >= c.memberCount)
  )
    return;
  busy.add(id);
  try {
    const members: User[] = [];
    let cursor: string | null = null;
    do {
      // a page of up to 256: a whole group (the request is here, off the first load, not in the API client)
      const page: MembersResponse = await ctx.api.request(
        'GET',
        `/conversations/${encodeURIComponent(id)}/members?limit=256&cursor=${encodeURIComponent(cursor ?? '')}`,
        { schema: (s) => s.MembersResponse },
      );
      members.push(...page.members);
      cursor = page.nextCursor;
    } while (cursor);
    // only the members change: the row keeps its place and any newer last message, and the rest of the list
    // stays as it is (a `conversations/loaded` would also end a list restored from the cache, cache.ts)
    ctx.dispatch({
      type: 'change',
      apply: (s) => ({
        ...s,
        conversations: {
          ...s.conversations,
          [id]: { ...(s.conversations[id] ?? c), members, memberCount: members.length },
        },
      }),
    });
  } catch {
    // names fall back ("Someone") until the next open
  }
  busy.delete(id);
}

/**
 * A timeline's next older page (scrolling up): only when its newest page is in, there is more, and no older page
 * is on its way already (`loadingOlder`, set before the request).
 */
export async function loadOlder(ctx: StoreContext, id: string, pageSize: number): Promise<void> {
  const t = ctx.getState().threads[id];
  if (t?.status !== 'ready' || !t.hasMore || t.loadingOlder) return;
  const { dispatch, api } = ctx;
  dispatch({ type: 'thread/patch', id, patch: { loadingOlder: true } });
  try {
    const before = t.cursor ?? t.messages[0]?.id;
    const page = await api.history(id, { before, limit: pageSize });
    dispatch({ type: 'messages', conversationId: id, messages: page.messages });
    dispatch({
      type: 'thread/patch',
      id,
      patch: { loadingOlder: false, cursor: page.nextCursor, hasMore: page.nextCursor !== null },
    });
  } catch (e) {
    dispatch({ type: 'thread/patch', id, patch: { loadingOlder: false, error: describeError(e) } });
  }
}
