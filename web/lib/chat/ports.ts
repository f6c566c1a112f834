import type { Conversation, Message } from '@chat/functions/contracts';
import type { ApiClient } from '../api/client.ts';
import type { RealtimeClient } from '../realtime/socket.ts';
import type { ChatAction, ChatState } from './state.ts';

export type ChatApi = Pick<
  ApiClient,
  | 'listConversations'
  | 'getConversation'
  | 'request'
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
  /**
   * Shows a system notification of `message` if the page is hidden and the user allowed it (its title and text
   * are composed where it is shown: lib/notifications.ts, a chunk of its own).
   */
  notify(conv: Conversation, message: Message): void;
}

/** What the controllers share: the state, the one way to change it, and the outside world. */
export interface StoreContext {
  getState(): ChatState;
  dispatch(action: ChatAction): void;
  readonly api: ChatApi;
  readonly realtime: ChatRealtime;
  now(): number;
}
