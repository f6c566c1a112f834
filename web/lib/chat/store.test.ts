import type { Message } from '@chat/functions/contracts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { memoryStorage } from '../api/session.ts';
import { UNAVAILABLE_RESENDS } from './sending.ts';
import { ChatStore } from './store.ts';
import { FakeRealtime, fakeApi, startedStore } from './testing/fakes.ts';
import { BOB, id, ME, msg } from './testing/fixtures.ts';

describe('ChatStore', () => {
  let rt: FakeRealtime;
  let store: ChatStore;
  let history: Message[];
  let storage: ReturnType<typeof memoryStorage>;

  beforeEach(() => {
    vi.useFakeTimers();
    history = [msg(1), msg(2)];
    ({ store, rt, storage } = startedStore(history));
  });
  afterEach(() => {
    store.stop();
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  const thread = () => store.getState().threads.c1?.messages.map((m) => m.body) ?? [];
  const outbox = () => store.getState().outbox.map((o) => `${o.clientMsgId}:${o.status}`);

  it('shows a message at once as pending and settles it when it comes back persisted', async () => {
    rt.connect();
    store.open('c1');
    await vi.advanceTimersByTimeAsync(0);
    store.send('c1', 'hello');
    expect(outbox()).toEqual(['local-1:sent']);
    rt.deliver({ type: 'ack', clientMsgId: 'local-1', messageId: id(3), conversationId: 'c1' });
    expect(outbox()).toEqual(['local-1:acked']);
    rt.deliver({
      type: 'message',
      message: msg(3, { senderId: ME.id, clientMsgId: 'local-1', body: 'hello' }),
    });
    expect(outbox()).toEqual([]);
    expect(thread()).toEqual(['message 1', 'message 2', 'hello']);
  });

  it("logs each traced message's hops to the console only when localStorage['chat:trace'] is 1", async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => undefined);
    try {
      rt.connect();
      store.open('c1');
      await vi.advanceTimersByTimeAsync(0);
      // hops before the client's receive time (fake timers: Date.now() is still while the test runs)
      const traceAt = (now: number) => ({
        received: now - 20,
        produced: now - 15,
        fetched: now - 8,
        persisted: now - 4,
        pushed: now - 2,
      });
      rt.deliver({ type: 'message', message: msg(3), trace: traceAt(Date.now()) });
      await vi.advanceTimersByTimeAsync(50);
      expect(info).not.toHaveBeenCalled();

      storage.setItem('chat:trace', '1');
      rt.deliver({ type: 'message', message: msg(4) }); // no trace: no line
      const trace = traceAt(Date.now());
      rt.deliver({ type: 'message', message: msg(5), trace });
      store.send('c1', 'mine');
      const sentAt = store.getState().outbox[0]?.lastSentAt;
      expect(sentAt).toBeTypeOf('number');
      rt.deliver({
        type: 'message',
        message: msg(6, { senderId: ME.id, clientMsgId: 'local-1', body: 'mine' }),
        trace: { ...trace, received: (sentAt as number) + 3 },
      });
      await vi.waitFor(() => expect(info).toHaveBeenCalledTimes(2), { timeout: 5_000 });
      const [bob, mine] = info.mock.calls.map(([line]) => String(line));
      expect(bob).toMatch(
        new RegExp(`^\\[chat:trace\\] message ${id(5)}: received→produced 5 ms .* total 20 ms$`),
      );
      expect(mine).toMatch(new RegExp(`^\\[chat:trace\\] message ${id(6)}: sent→received 3 ms · `));
      expect(mine).toMatch(/\(\d+ ms from my send\)$/);
    } finally {
      info.mockRestore();
    }
  });

  it('queues while disconnected and resends with the same clientMsgId on reconnect, never doubled', async () => {
    rt.connect();
    store.open('c1');
    await vi.advanceTimersByTimeAsync(0);
    rt.drop();
    store.send('c1', 'one');
    store.send('c1', 'two');
    expect(rt.sends()).toHaveLength(0);
    expect(outbox()).toEqual(['local-1:queued', 'local-2:queued']);

    const sent = () => rt.sends().map((f) => f.action === 'sendMessage' && f.clientMsgId);
    rt.connect();
    await vi.advanceTimersByTimeAsync(0);
    // one at a time, in the order typed: the next goes when the previous is acknowledged
    expect(sent()).toEqual(['local-1']);
    rt.deliver({ type: 'ack', clientMsgId: 'local-1', messageId: id(3), conversationId: 'c1' });
    expect(sent()).toEqual(['local-1', 'local-2']);

    // the connection dies before the second's ack (and before either came back persisted): both go again,
    // same ids, in order
    rt.drop();
    rt.connect();
    await vi.advanceTimersByTimeAsync(0);
    rt.deliver({ type: 'ack', clientMsgId: 'local-1', messageId: id(3), conversationId: 'c1' });
    expect(sent()).toEqual(['local-1', 'local-2', 'local-1', 'local-2']);

    // the server persisted each once; delivery is at least once (here: twice, plus the gap fill)
    const one = msg(3, { senderId: ME.id, clientMsgId: 'local-1', body: 'one' });
    const two = msg(4, { senderId: ME.id, clientMsgId: 'local-2', body: 'two' });
    history.push(one, two);
    for (const m of [one, two, one, two]) rt.deliver({ type: 'message', message: m });
    await store.fillGap('c1');
    expect(thread()).toEqual(['message 1', 'message 2', 'one', 'two']);
    expect(outbox()).toEqual([]);
  });

  it('fills the gap with after= for each open conversation after a reconnect', async () => {
    rt.connect();
    store.open('c1');
    await vi.advanceTimersByTimeAsync(0);
    rt.drop();
    history.push(msg(3), msg(4));
    rt.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(thread()).toEqual(['message 1', 'message 2', 'message 3', 'message 4']);
  });

  it('resends unacknowledged messages after a rate_limited error, with the same clientMsgId', async () => {
    rt.connect();
    store.open('c1');
    await vi.advanceTimersByTimeAsync(0);
    store.send('c1', 'a');
    store.send('c1', 'b');
    rt.deliver({ type: 'ack', clientMsgId: 'local-1', messageId: id(3), conversationId: 'c1' });
    // b went out after a's ack, and was refused
    rt.deliver({ type: 'error', code: 'rate_limited', message: 'slow down', action: 'sendMessage' });
    await vi.advanceTimersByTimeAsync(2_100);
    expect(rt.sends().map((f) => f.action === 'sendMessage' && f.clientMsgId)).toEqual([
      'local-1',
      'local-2',
      'local-2',
    ]);
  });

  it('fills the gap from where the timeline stood, even when a live message arrives first', async () => {
    rt.connect();
    store.open('c1');
    await vi.advanceTimersByTimeAsync(0);
    rt.drop();
    history.push(msg(3)); // missed while away
    rt.connect();
    // the new connection delivers a newer message before the gap fill ran
    history.push(msg(4));
    rt.deliver({ type: 'message', message: msg(4) });
    await vi.advanceTimersByTimeAsync(0);
    expect(thread()).toEqual(['message 1', 'message 2', 'message 3', 'message 4']);
  });

  it('marks a message failed when the server refuses it, and retries it on demand', async () => {
    rt.connect();
    store.open('c1');
    await vi.advanceTimersByTimeAsync(0);
    store.send('c1', 'x');
    rt.deliver({
      type: 'error',
      code: 'not_member',
      message: 'No such conversation.',
      clientMsgId: 'local-1',
    });
    expect(outbox()).toEqual(['local-1:failed']);
    store.retry('local-1');
    expect(outbox()).toEqual(['local-1:sent']);
    expect(rt.sends()).toHaveLength(2);
  });

  it('resends a send refused as unavailable by itself, pending meanwhile, the next one held behind it', async () => {
    const sendIds = () => rt.sends().map((f) => f.action === 'sendMessage' && f.clientMsgId);
    rt.connect();
    store.open('c1');
    await vi.advanceTimersByTimeAsync(0);
    store.send('c1', 'a');
    store.send('c1', 'b'); // waits for a's ack
    const unavailable = {
      type: 'error',
      code: 'unavailable',
      message: 'Try again.',
      clientMsgId: 'local-1',
    } as const;
    rt.deliver(unavailable);
    // still pending (queued again, not failed), and b does not overtake it
    expect(outbox()).toEqual(['local-1:queued', 'local-2:queued']);
    await vi.advanceTimersByTimeAsync(2_100);
    expect(sendIds()).toEqual(['local-1', 'local-1']);
    rt.deliver(unavailable);
    await vi.advanceTimersByTimeAsync(1_600);
    expect(sendIds()).toEqual(['local-1', 'local-1', 'local-1']);
    rt.deliver({ type: 'ack', clientMsgId: 'local-1', messageId: id(3), conversationId: 'c1' });
    expect(sendIds()).toEqual(['local-1', 'local-1', 'local-1', 'local-2']);
    expect(outbox()).toEqual(['local-1:acked', 'local-2:sent']);
  });

  it(`fails a send after ${UNAVAILABLE_RESENDS} automatic resends refused as unavailable, and retries it on demand`, async () => {
    rt.connect();
    store.open('c1');
    await vi.advanceTimersByTimeAsync(0);
    store.send('c1', 'x');
    // the jitter at its least: the waits are 1, 1, 1, 2, 4, then 8 s
    vi.spyOn(Math, 'random').mockReturnValue(0);
    let waited = 0;
    for (let i = 0; i < UNAVAILABLE_RESENDS; i++) {
      rt.deliver({ type: 'error', code: 'unavailable', message: 'Try again.', clientMsgId: 'local-1' });
      expect(outbox()).toEqual(['local-1:queued']);
      const wait = [1_000, 1_000, 1_000, 2_000, 4_000][i] ?? 8_000;
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(rt.sends()).toHaveLength(i + 1);
      await vi.advanceTimersByTimeAsync(1);
      expect(rt.sends()).toHaveLength(i + 2);
      waited += wait;
    }
    // the resends cover a Kafka or Cassandra restart (about two minutes even at the least jitter)
    expect(waited).toBeGreaterThanOrEqual(100_000);
    rt.deliver({ type: 'error', code: 'unavailable', message: 'Try again.', clientMsgId: 'local-1' });
    expect(outbox()).toEqual(['local-1:failed']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(rt.sends()).toHaveLength(UNAVAILABLE_RESENDS + 1);
    store.retry('local-1');
    expect(outbox()).toEqual(['local-1:sent']);
  });

  it('fails a send that gets no ack in time, and resends it on the next connection', async () => {
    rt.connect();
    store.open('c1');
    await vi.advanceTimersByTimeAsync(0);
    store.send('c1', 'late');
    // resent twice automatically (same clientMsgId), then shown as failed
    await vi.advanceTimersByTimeAsync(11_000);
    expect(rt.sends()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(11_000);
    expect(rt.sends()).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(11_000);
    expect(outbox()).toEqual(['local-1:failed']);
    expect(new Set(rt.sends().map((f) => f.action === 'sendMessage' && f.clientMsgId))).toEqual(
      new Set(['local-1']),
    );
    rt.drop();
    rt.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(outbox()).toEqual(['local-1:sent']);
  });

  it('keeps unsent messages across a reload (the outbox is persisted per user)', async () => {
    rt.drop();
    store.send('c1', 'typed offline');
    const reloaded = new ChatStore({ me: ME, api: fakeApi(history), realtime: new FakeRealtime(), storage });
    expect(reloaded.getState().outbox.map((o) => `${o.body}:${o.status}`)).toEqual(['typed offline:queued']);
  });

  it('counts unread messages of a conversation that is not open, and marks read when it is opened', async () => {
    rt.connect();
    await vi.advanceTimersByTimeAsync(0);
    rt.deliver({ type: 'message', message: msg(3) });
    rt.deliver({ type: 'message', message: msg(3) });
    rt.deliver({ type: 'message', message: msg(4) });
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState().conversations.c1?.unreadCount).toBe(2);
    store.open('c1');
    await vi.advanceTimersByTimeAsync(300);
    expect(store.getState().conversations.c1?.unreadCount).toBe(0);
    expect(rt.frames.filter((f) => f.action === 'markRead').at(-1)).toEqual({
      action: 'markRead',
      conversationId: 'c1',
      messageId: id(4),
    });
  });

  it('tells the others about typing without flooding, and never loses a quick stop-start', async () => {
    rt.connect();
    const typing = () =>
      rt.frames.filter((f) => f.action === 'typing').map((f) => f.action === 'typing' && f.state);
    for (let i = 0; i < 10; i++) {
      store.noteTyping('c1');
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(typing()).toEqual(['start']);
    store.stopTyping('c1'); // sent: a message went out
    store.noteTyping('c1'); // and the next one is being typed at once
    await vi.advanceTimersByTimeAsync(1_000);
    // the paced frame carries the latest wish: still typing, so nothing contradicts the first start
    expect(typing()).toEqual(['start']);
    store.stopTyping('c1');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(typing()).toEqual(['start', 'stop']);
    store.noteTyping('c1');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(typing()).toEqual(['start', 'stop', 'start']);
    // a pause ends it by itself
    await vi.advanceTimersByTimeAsync(5_000);
    expect(typing()).toEqual(['start', 'stop', 'start', 'stop']);
  });

  it('after a send, typing the next message tells the others again (the message ended the first)', async () => {
    rt.connect();
    const typing = () =>
      rt.frames.filter((f) => f.action === 'typing').map((f) => f.action === 'typing' && f.state);
    store.noteTyping('c1');
    store.send('c1', 'hi');
    await vi.advanceTimersByTimeAsync(300);
    store.noteTyping('c1');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(typing()).toEqual(['start', 'start']);
  });

  it('takes a message from someone as their read receipt for what came before (✓✓ on my earlier ones)', async () => {
    rt.connect();
    store.open('c1');
    await vi.advanceTimersByTimeAsync(0);
    rt.deliver({ type: 'message', message: msg(5) });
    expect(store.getState().receipts.c1?.[BOB.id]?.lastReadId).toBe(id(5));
    // an older receipt arriving late does not move it back
    rt.deliver({
      type: 'receipt',
      conversationId: 'c1',
      userId: BOB.id,
      lastReadId: id(4),
      readAt: msg(4).sentAt,
    });
    expect(store.getState().receipts.c1?.[BOB.id]?.lastReadId).toBe(id(5));
  });

  it('shows typing until stop, a message from that person, or a few seconds of silence', async () => {
    rt.connect();
    rt.deliver({ type: 'typing', conversationId: 'c1', userId: BOB.id, state: 'start' });
    expect(Object.keys(store.getState().typing.c1 ?? {})).toEqual([BOB.id]);
    rt.deliver({ type: 'typing', conversationId: 'c1', userId: BOB.id, state: 'stop' });
    expect(Object.keys(store.getState().typing.c1 ?? {})).toEqual([]);
    rt.deliver({ type: 'typing', conversationId: 'c1', userId: BOB.id, state: 'start' });
    await vi.advanceTimersByTimeAsync(7_000);
    expect(Object.keys(store.getState().typing.c1 ?? {})).toEqual([]);
  });
});
