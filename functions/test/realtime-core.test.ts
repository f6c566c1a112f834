/**
 * Unit tests of the pure realtime core (core/messaging.ts send, typing and read, core/presence.ts) over in-memory
 * ports. The integration and end-to-end tests run the same code against the real services.
 */
import { waitFor } from '@chat/kit/async';
import { describe, expect, it } from 'vitest';
import { limits } from '#contracts/limits.ts';
import { ChatError } from '#core/errors.ts';
import { idTime } from '#core/ids.ts';
import { markRead, persistAndFanOut, sendMessage, typing } from '#core/messaging.ts';
import { connect, disconnect, sweep } from '#core/presence.ts';
import { FakeWorld, message } from './support/fake-ports.ts';

describe('sendMessage', () => {
  const world = () => {
    const w = new FakeWorld();
    w.members.set('c1', ['alice', 'bob']);
    return w;
  };

  it('publishes a message keyed to the conversation and acks its id', async () => {
    const w = world();
    const ack = await sendMessage(
      w.ports(),
      { userId: 'alice' },
      { conversationId: 'c1', clientMsgId: 'm1', body: 'hi' },
    );
    expect(ack).toMatchObject({ type: 'ack', clientMsgId: 'm1', conversationId: 'c1' });
    expect(w.published).toHaveLength(1);
    const sent = w.published[0]?.message;
    expect(sent).toMatchObject({ id: ack.messageId, senderId: 'alice', body: 'hi', clientMsgId: 'm1' });
    expect(new Date(sent?.sentAt ?? 0).getTime()).toBe(idTime(ack.messageId));
  });

  it('acks a resend with the same message id without publishing again', async () => {
    const w = world();
    const p = w.ports();
    const a = await sendMessage(
      p,
      { userId: 'alice' },
      { conversationId: 'c1', clientMsgId: 'm1', body: 'hi' },
    );
    const b = await sendMessage(
      p,
      { userId: 'alice' },
      { conversationId: 'c1', clientMsgId: 'm1', body: 'hi' },
    );
    expect(b.messageId).toBe(a.messageId);
    expect(w.published).toHaveLength(1);
  });

  it('does not ack when publishing fails, and the resend publishes the same id', async () => {
    const w = world();
    w.publishFails = 1;
    const p = w.ports();
    await expect(
      sendMessage(p, { userId: 'alice' }, { conversationId: 'c1', clientMsgId: 'm1', body: 'hi' }),
    ).rejects.toMatchObject({ name: 'KafkaJSConnectionError' });
    expect(w.published).toHaveLength(0);
    const ack = await sendMessage(
      p,
      { userId: 'alice' },
      { conversationId: 'c1', clientMsgId: 'm1', body: 'hi' },
    );
    expect(w.published.map((r) => r.message.id)).toEqual([ack.messageId]);
  });

  it.each([
    ['', 'body_empty'],
    ['   \n ', 'body_empty'],
    ['x'.repeat(limits.messageBodyMaxChars + 1), 'body_too_long'],
  ])('refuses body %#: %s', async (body, code) => {
    const w = world();
    await expect(
      sendMessage(w.ports(), { userId: 'alice' }, { conversationId: 'c1', clientMsgId: 'm1', body }),
    ).rejects.toMatchObject({ code });
    expect(w.published).toHaveLength(0);
  });

  it('accepts a body of exactly the maximum length', async () => {
    const w = world();
    const body = 'x'.repeat(limits.messageBodyMaxChars);
    await sendMessage(w.ports(), { userId: 'alice' }, { conversationId: 'c1', clientMsgId: 'm1', body });
    expect(w.published).toHaveLength(1);
  });

  it('stamps trace.received on the record: when the frame reached the function, else now', async () => {
    const w = world();
    await sendMessage(
      w.ports(),
      { userId: 'alice' },
      { conversationId: 'c1', clientMsgId: 'm1', body: 'hi' },
      { receivedAt: w.now - 7 },
    );
    await sendMessage(
      w.ports(),
      { userId: 'alice' },
      { conversationId: 'c1', clientMsgId: 'm2', body: 'hi' },
    );
    expect(w.published.map((r) => r.trace)).toEqual([{ received: w.now - 7 }, { received: w.now }]);
  });

  it('acks without waiting for the publish to be recorded; a failed record only logs', async () => {
    const w = world();
    const never = { ...w.ports(), markPublished: () => new Promise<void>(() => undefined) };
    const ack = await sendMessage(
      never,
      { userId: 'alice' },
      { conversationId: 'c1', clientMsgId: 'm1', body: 'hi' },
    );
    expect(ack).toMatchObject({ type: 'ack', clientMsgId: 'm1' });
    const failing = {
      ...w.ports(),
      markPublished: async () => {
        throw new Error('redis hiccup');
      },
    };
    const again = await sendMessage(
      failing,
      { userId: 'alice' },
      { conversationId: 'c1', clientMsgId: 'm2', body: 'hi' },
    );
    expect(again).toMatchObject({ type: 'ack', clientMsgId: 'm2' });
    await waitFor(
      () => w.logs.some((l) => l.level === 'warn' && l.message.includes('recording the publish')),
      {
        timeoutMs: 2_000,
        what: 'the warning',
      },
    );
    // Unrecorded, so a resend publishes the same id again (the consumer drops the copy).
    const resend = await sendMessage(
      w.ports(),
      { userId: 'alice' },
      { conversationId: 'c1', clientMsgId: 'm2', body: 'hi' },
    );
    expect(resend.messageId).toBe(again.messageId);
    expect(w.published.map((r) => r.message.id)).toEqual([ack.messageId, again.messageId, again.messageId]);
  });

  it('refuses a non-member with not_member', async () => {
    const w = world();
    const error = await sendMessage(
      w.ports(),
      { userId: 'mallory' },
      { conversationId: 'c1', clientMsgId: 'm1', body: 'hi' },
    ).catch((e) => e);
    expect(error).toBeInstanceOf(ChatError);
    expect(error.code).toBe('not_member');
    expect(w.published).toHaveLength(0);
  });
});

describe('typing and markRead', () => {
  const setup = () => {
    const w = new FakeWorld();
    w.members.set('c1', ['alice', 'bob']);
    w.connect('a1', 'alice');
    w.connect('a2', 'alice');
    w.connect('b1', 'bob');
    return w;
  };

  it('typing reaches the other members only, and is rate limited per connection and conversation', async () => {
    const w = setup();
    const p = w.ports();
    const results = [];
    for (let i = 0; i < limits.typingPerSecond + 2; i++) {
      results.push(
        await typing(p, { userId: 'alice', connectionId: 'a1' }, { conversationId: 'c1', state: 'start' }),
      );
    }
    expect(results.filter(Boolean)).toHaveLength(limits.typingPerSecond);
    expect(w.eventsFor('b1')).toHaveLength(limits.typingPerSecond);
    expect(w.eventsFor('b1')[0]).toEqual({
      type: 'typing',
      conversationId: 'c1',
      userId: 'alice',
      state: 'start',
    });
    expect(w.eventsFor('a1')).toEqual([]);
    expect(w.eventsFor('a2')).toEqual([]);
    await expect(
      typing(p, { userId: 'mallory', connectionId: 'm1' }, { conversationId: 'c1', state: 'start' }),
    ).rejects.toMatchObject({ code: 'not_member' });
  });

  it('markRead moves forward only and sends receipts to members but the acting connection', async () => {
    const w = setup();
    const p = w.ports();
    await persistAndFanOut(p, [message(1, { senderId: 'alice' }), message(2, { senderId: 'alice' })]);
    w.pushes = [];
    const r = await markRead(
      p,
      { userId: 'bob', connectionId: 'b1' },
      { conversationId: 'c1', messageId: message(2).id },
    );
    expect(r.lastReadId).toBe(message(2).id);
    expect(w.eventsFor('a1')).toEqual([{ type: 'receipt', conversationId: 'c1', ...r }]);
    expect(w.eventsFor('b1')).toEqual([]);
    w.pushes = [];
    const back = await markRead(p, { userId: 'bob' }, { conversationId: 'c1', messageId: message(1).id });
    expect(back.lastReadId).toBe(message(2).id);
    expect(w.pushes).toEqual([]);
    await expect(
      markRead(p, { userId: 'bob' }, { conversationId: 'c1', messageId: message(9).id }),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      markRead(p, { userId: 'mallory' }, { conversationId: 'c1', messageId: message(1).id }),
    ).rejects.toMatchObject({ code: 'not_member' });
  });
});

describe('presence', () => {
  const setup = () => {
    const w = new FakeWorld();
    w.members.set('c1', ['alice', 'bob']);
    w.members.set('c2', ['carol', 'dave']);
    w.connect('b1', 'bob');
    w.connect('d1', 'dave');
    return w;
  };

  it('the first connection announces online to contacts only; a second one announces nothing', async () => {
    const w = setup();
    const p = w.ports();
    expect(await connect(p, { connectionId: 'a1', userId: 'alice' })).toEqual({ firstConnection: true });
    expect(w.eventsFor('b1')).toEqual([
      { type: 'presence', userId: 'alice', online: true, lastSeenAt: null },
    ]);
    expect(w.eventsFor('d1')).toEqual([]);
    expect(w.eventsFor('a1')).toEqual([]);
    expect(await connect(p, { connectionId: 'a2', userId: 'alice' })).toEqual({ firstConnection: false });
    expect(w.eventsFor('b1')).toHaveLength(1);
  });

  it('the last disconnect announces offline with last seen; an earlier one does not', async () => {
    const w = setup();
    const p = w.ports();
    await connect(p, { connectionId: 'a1', userId: 'alice' });
    await connect(p, { connectionId: 'a2', userId: 'alice' });
    w.pushes = [];
    await disconnect(p, { connectionId: 'a1' });
    expect(w.pushes).toEqual([]);
    w.now += 5_000;
    await disconnect(p, { connectionId: 'a2' });
    expect(w.eventsFor('b1')).toEqual([
      { type: 'presence', userId: 'alice', online: false, lastSeenAt: new Date(w.now).toISOString() },
    ]);
    await disconnect(p, { connectionId: 'a2' });
    expect(w.eventsFor('b1')).toHaveLength(1);
  });

  it('presence failures do not refuse the connection', async () => {
    const w = setup();
    const p = { ...w.ports(), contactIds: async () => Promise.reject(new Error('store down')) };
    expect(await connect(p, { connectionId: 'a1', userId: 'alice' })).toEqual({ firstConnection: true });
    expect(w.logs.some((l) => l.level === 'error')).toBe(true);
  });

  it('the sweeper removes lapsed connections, closes them, and announces offline at the last frame', async () => {
    const w = setup();
    const p = w.ports();
    w.connect('a1', 'alice', 1_000);
    const lastFrameAt = w.now + 1_000 - 900_000;
    w.now += 2_000;
    const result = await sweep(p);
    expect(result).toEqual({ removed: 1, offline: 1 });
    expect(w.closed).toEqual(['a1']);
    expect(w.eventsFor('b1')).toEqual([
      { type: 'presence', userId: 'alice', online: false, lastSeenAt: new Date(lastFrameAt).toISOString() },
    ]);
    expect(await sweep(p)).toEqual({ removed: 0, offline: 0 });
  });
});

describe('isOutage', () => {
  it('tells backing-service outages from bugs, following causes', async () => {
    const { isOutage } = await import('#adapters/outage.ts');
    const named = (name: string, extra: Record<string, unknown> = {}) =>
      Object.assign(new Error(name), { name, ...extra });
    expect(isOutage(named('NoHostAvailableError'))).toBe(true);
    expect(isOutage(named('ResponseError', { code: 0x1100 }))).toBe(true);
    expect(isOutage(named('ResponseError', { code: 0x2200 }))).toBe(false);
    expect(isOutage(named('KafkaJSNumberOfRetriesExceeded'))).toBe(true);
    expect(isOutage(named('MaxRetriesPerRequestError'))).toBe(true);
    expect(isOutage(new Error('Connection is closed.'))).toBe(true);
    expect(isOutage(new Error('wrapped', { cause: named('Error', { code: 'ECONNREFUSED' }) }))).toBe(true);
    expect(isOutage(new TypeError('x is undefined'))).toBe(false);
    expect(isOutage(new ChatError('not_member'))).toBe(false);
    expect(isOutage('a string')).toBe(false);
  });
});
