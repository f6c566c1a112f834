import type { ApiClient } from '../api/client.ts';
import type { ChatStore } from './store.ts';

/**
 * Mutes or unmutes a conversation for me (`PUT /conversations/{id}/settings`): shown at once, then as the
 * server answered; put back when the request fails (the error is thrown for the caller to show). A muted
 * conversation sends me no push but for mentions of me, and still counts unread. Loaded with the conversation
 * view, not on the first load.
 */
export async function setConversationMuted(
  store: Pick<ChatStore, 'setMuted'>,
  api: Pick<ApiClient, 'request'>,
  conversationId: string,
  muted: boolean,
): Promise<void> {
  store.setMuted(conversationId, muted);
  try {
    const r = await api.request('PUT', `/conversations/${encodeURIComponent(conversationId)}/settings`, {
      body: { muted },
      schema: (c) => c.ConversationSettingsResponse,
    });
    store.setMuted(conversationId, r.muted);
  } catch (e) {
    store.setMuted(conversationId, !muted);
    throw e;
  }
}
