import { HIDDEN_NOTIFICATION_TEXT, type PushPayload } from '@chat/functions/contracts';
import { describe, expect, it } from 'vitest';
import {
  HIDDEN_TITLE,
  handleNotificationClick,
  ICON_URL,
  isOpenConversationMessage,
  notificationFor,
  parsePushPayload,
  planClick,
  type WindowClientLike,
} from './sw-logic.ts';

const ORIGIN = 'https://chat.example';

/** A payload as the server sends it (the contracts' PushPayload). */
function payload(p: Partial<PushPayload>): string {
  const full: PushPayload = {
    v: 1,
    type: 'message',
    conversationId: 'c1',
    messageId: '01JB0000000000000000000000',
    conversationTitle: null,
    senderName: null,
    snippet: null,
    mention: false,
    hidden: false,
    ...p,
  };
  return JSON.stringify(full);
}

class FakeClient implements WindowClientLike {
  focusedCalls = 0;
  messages: unknown[] = [];
  constructor(
    readonly url: string,
    readonly focused = false,
    readonly visibilityState = 'hidden',
  ) {}
  async focus() {
    this.focusedCalls++;
    return this;
  }
  postMessage(m: unknown) {
    this.messages.push(m);
  }
}

describe('push payload → notification', () => {
  it('a group message: the conversation title, "sender: snippet", the app icon, one per conversation', () => {
    const n = notificationFor(
      parsePushPayload(
        payload({ conversationTitle: 'Weekend trip', senderName: 'Alice', snippet: 'Who brings the tent?' }),
      ),
    );
    expect(n.title).toBe('Weekend trip');
    expect(n.options.body).toBe('Alice: Who brings the tent?');
    expect(n.options.icon).toBe(ICON_URL);
    expect(n.options.tag).toBe('conversation:c1');
    expect(n.options.renotify).toBe(true);
    expect(n.options.data).toEqual({ conversationId: 'c1', path: '/chat?c=c1' });
  });

  it('a DM (title = the sender): the snippet alone', () => {
    const n = notificationFor(
      parsePushPayload(payload({ conversationTitle: 'Bob', senderName: 'Bob', snippet: 'hi there' })),
    );
    expect(n.title).toBe('Bob');
    expect(n.options.body).toBe('hi there');
  });

  it('a mention says so', () => {
    const n = notificationFor(
      parsePushPayload(
        payload({ conversationTitle: 'Team', senderName: 'Alice', snippet: '@bob look', mention: true }),
      ),
    );
    expect(n.title).toBe('Team');
    expect(n.options.body).toBe('Alice mentioned you: @bob look');
  });

  it('hidden content: "New message" and nothing else, still opening the conversation', () => {
    const n = notificationFor(
      parsePushPayload(
        // even a payload that carried texts despite `hidden` shows none of them
        payload({
          conversationId: 'c/2',
          hidden: true,
          conversationTitle: 'leak',
          snippet: 'leak',
          mention: true,
        }),
      ),
    );
    expect(HIDDEN_TITLE).toBe(HIDDEN_NOTIFICATION_TEXT);
    expect(n.title).toBe(HIDDEN_TITLE);
    expect(n.options.body).toBe('');
    expect(JSON.stringify(n)).not.toContain('leak');
    expect(n.options.data.path).toBe('/chat?c=c%2F2');
  });

  it('an unreadable or empty payload still shows a notification (the browser requires one per push)', () => {
    for (const text of [null, '', 'not json', '[1,2]', '{"conversationTitle":5}']) {
      const n = notificationFor(parsePushPayload(text));
      expect(n.title).toBe(HIDDEN_TITLE);
      expect(n.options.data).toEqual({ conversationId: null, path: '/chat' });
      expect(n.options.tag).toBe('chat');
    }
  });

  it('missing title falls back to the sender; whitespace collapses; long snippets are cut', () => {
    const n = notificationFor(
      parsePushPayload(payload({ senderName: 'Carol', snippet: `a\n\n b ${'x'.repeat(500)}` })),
    );
    expect(n.title).toBe('Carol');
    expect(n.options.body.startsWith('a b x')).toBe(true);
    expect(n.options.body.length).toBeLessThanOrEqual(240);
    expect(n.options.body.endsWith('…')).toBe(true);
  });
});

describe('notification click', () => {
  const data = { conversationId: 'c1', path: '/chat?c=c1' };

  it('focuses a tab that already shows the conversation', () => {
    const other = new FakeClient(`${ORIGIN}/chat?c=c9`, true);
    const onIt = new FakeClient(`${ORIGIN}/chat?c=c1`);
    const plan = planClick([other, onIt], ORIGIN, data);
    expect(plan).toEqual({ kind: 'focus', client: onIt });
  });

  it('else routes the focused (then visible) chat tab to it, without a reload', () => {
    const hidden = new FakeClient(`${ORIGIN}/chat`);
    const visible = new FakeClient(`${ORIGIN}/chat?c=c7`, false, 'visible');
    const plan = planClick([hidden, visible], ORIGIN, data);
    expect(plan).toEqual({
      kind: 'route',
      client: visible,
      message: { type: 'chat:open-conversation', conversationId: 'c1' },
    });
    const focused = new FakeClient(`${ORIGIN}/chat/`, true);
    expect(planClick([visible, focused], ORIGIN, data)).toMatchObject({ kind: 'route', client: focused });
  });

  it('opens a new tab when no chat tab of this origin is open (other origins and pages do not count)', () => {
    const plan = planClick(
      [
        new FakeClient('https://evil.example/chat?c=c1'),
        new FakeClient(`${ORIGIN}/signin`),
        new FakeClient('bad url'),
      ],
      ORIGIN,
      data,
    );
    expect(plan).toEqual({ kind: 'open', url: `${ORIGIN}/chat?c=c1` });
    expect(planClick([], ORIGIN, null)).toEqual({ kind: 'open', url: `${ORIGIN}/chat` });
  });

  it('without a conversation: focuses a chat tab as it is', () => {
    const tab = new FakeClient(`${ORIGIN}/chat?c=c7`);
    expect(planClick([tab], ORIGIN, { conversationId: null })).toEqual({ kind: 'focus', client: tab });
  });

  it('carries the plan out: focus + postMessage, or openWindow', async () => {
    const tab = new FakeClient(`${ORIGIN}/chat`);
    const opened: string[] = [];
    const env = {
      origin: ORIGIN,
      matchAll: async () => [tab],
      openWindow: async (url: string) => opened.push(url),
    };
    await handleNotificationClick(env, data);
    expect(tab.focusedCalls).toBe(1);
    expect(tab.messages).toEqual([{ type: 'chat:open-conversation', conversationId: 'c1' }]);
    expect(isOpenConversationMessage(tab.messages[0])).toBe(true);
    await handleNotificationClick({ ...env, matchAll: async () => [] }, data);
    expect(opened).toEqual([`${ORIGIN}/chat?c=c1`]);
  });

  it('recognises only its own messages', () => {
    for (const m of [null, 'x', { type: 'other', conversationId: 'c' }, { type: 'chat:open-conversation' }])
      expect(isOpenConversationMessage(m)).toBe(false);
  });
});
