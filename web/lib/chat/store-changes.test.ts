import type { ClientFrame, Message } from '@chat/functions/contracts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { memoryStorage } from '../api/session.ts';
import { deleteItem, editItem, reactItem, sendChange, sendExtras } from './changes.ts';
import { loadOutbox } from './sending.ts';
import type { ChatStore } from './store.ts';
import { type FakeRealtime, startedStore } from './testing/fakes.ts';
import { BOB, id, ME, msg } from './testing/fixtures.ts';

const EDITED = '2026-01-01T01:00:00.000Z';

/** The store with edits, deletes, reactions and replies (issue 14): the outbox, the frames, the events. */
describe('ChatStore: changes to messages', () => {
  let rt: FakeRealtime;
  let store: ChatStore;
  let history: Message[];
  let storage: ReturnType<typeof memoryStorage>;

  beforeEach(() => {
    vi.useFakeTimers();
    history = [msg(1, { senderId: ME.id }), msg(2)];
    ({ store, rt, storage } = startedStore(history));
  });
  afterEach(() => {
    store.stop();
    vi.useRealTimers();
  });

  const thread = () => store.getState().threads.c1?.messages ?? [];
  const outbox = () => store.getState().outbox.map((o) => `${o.clientMsgId}:${o.status}`);
  const frames = () => rt.frames.filter((f) => f.action !== 'typing') as ClientFrame[];
  /** The lazily loaded changes module has applied what came. */
  const settled = async () => {
    await vi.dynamicImportSettled();
    await vi.advanceTimersByTimeAsync(0);
  };

  it('an edit and a reaction made offline wait in the outbox (and storage), then go out in order', async () => {
    rt.connect();
    store.open('c1');
    await vi.advanceTimersByTimeAsync(0);
    rt.drop();
    sendChange(store, editItem('c1', id(1), 'better words'));
    sendChange(store, reactItem('c1', id(2), '👍', true));
    expect(outbox()).toEqual(['local-1:queued', 'local-2:queued']);
    expect(frames()).toEqual([]);
    // a reload while offline keeps them
    expect(loadOutbox(storage, ME.id).map((o) => o.kind)).toEqual(['edit', 'react']);
    rt.connect();
    // one unacknowledged frame per conversation at a time, in the order made
    expect(frames()).toEqual([
      {
        action: 'editMessage',
        conversationId: 'c1',
        clientMsgId: 'local-1',
        messageId: id(1),
        body: 'better words',
      },
    ]);
    rt.deliver({ type: 'ack', clientMsgId: 'local-1', messageId: id(1), conversationId: 'c1' });
    expect(frames()[1]).toEqual({
      action: 'react',
      conversationId: 'c1',
      clientMsgId: 'local-2',
      messageId: id(2),
      emoji: '👍',
      add: true,
    });
    rt.deliver({ type: 'ack', clientMsgId: 'local-2', messageId: id(2), conversationId: 'c1' });
    expect(outbox()).toEqual(['local-1:acked', 'local-2:acked']);
    // the events settle them (the timeline shows them now)
    rt.deliver({
      type: 'messageUpdated',
      message: msg(1, { senderId: ME.id, body: 'better words', editedAt: EDITED }),
    });
    rt.deliver({
      type: 'reaction',
      conversationId: 'c1',
      messageId: id(2),
      userId: ME.id,
      emoji: '👍',
      add: true,
    });
    await settled();
    expect(outbox()).toEqual([]);
    expect(thread()[0]).toMatchObject({ body: 'better words', editedAt: EDITED });
    expect(thread()[1]?.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [ME.id] }]);
  });

  it('a delete refused for good shows as failed and is not resent on reconnect', async () => {
    rt.connect();
    store.open('c1');
    await vi.advanceTimersByTimeAsync(0);
    sendChange(store, deleteItem('c1', id(2)));
    expect(frames()).toEqual([
      { action: 'deleteMessage', conversationId: 'c1', clientMsgId: 'local-1', messageId: id(2) },
    ]);
    rt.deliver({ type: 'error', code: 'forbidden', message: 'Not yours.', clientMsgId: 'local-1' });
    expect(outbox()).toEqual(['local-1:failed']);
    rt.drop();
    rt.connect();
    expect(frames()).toHaveLength(1);
  });

  it('a reply with attachments goes out as one sendMessage frame', async () => {
    rt.connect();
    store.open('c1');
    await vi.advanceTimersByTimeAsync(0);
    const file = { id: id(9), filename: 'cat.png', contentType: 'image/png', size: 10 };
    store.send('c1', '', sendExtras('', id(2), [file]));
    expect(frames()).toEqual([
      {
        action: 'sendMessage',
        conversationId: 'c1',
        clientMsgId: 'local-1',
        body: '',
        replyTo: id(2),
        attachmentIds: [id(9)],
      },
    ]);
    // an empty message with nothing attached is not sent
    expect(store.send('c1', '  ')).toBeNull();
  });

  it('live events from others apply in order; a reconnect refreshes what changed while away', async () => {
    rt.connect();
    store.open('c1');
    await vi.advanceTimersByTimeAsync(0);
    const r = { type: 'reaction', conversationId: 'c1', messageId: id(1), emoji: '🎉' } as const;
    rt.deliver({ ...r, userId: BOB.id, add: true });
    rt.deliver({ ...r, userId: BOB.id, add: true });
    rt.deliver({ ...r, userId: BOB.id, add: false });
    rt.deliver({ ...r, userId: BOB.id, add: true });
    await settled();
    expect(thread()[0]?.reactions).toEqual([{ emoji: '🎉', count: 1, userIds: [BOB.id] }]);
    // while away: Bob's message was edited (history has it)
    rt.drop();
    history[1] = msg(2, { body: 'edited while away', editedAt: EDITED });
    rt.connect();
    await vi.advanceTimersByTimeAsync(0);
    await settled();
    expect(thread()[1]).toMatchObject({ body: 'edited while away', editedAt: EDITED });
  });
});
