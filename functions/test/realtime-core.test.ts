/**
 * Unit tests of the pure realtime core (core/persist.ts, core/messaging.ts, core/presence.ts) over in-memory
 * ports. The integration and end-to-end tests run the same code against the real services.
 */
import { waitFor } from '@chat/kit/async';
import { describe, expect, it } from 'vitest';
import { limits } from '#contracts/limits.ts';
import { ChatError } from '#core/errors.ts';
import { idTime } from '#core/ids.ts';
import { markRead, persistAndFanOut, sendMessage, typing } from '#core/messaging.ts';
import { planPersist, unreadCount } from '#core/persist.ts';
import { connect, disconnect, sweep } from '#core/presence.ts';
import { FakeWorld, message } from './support/fake-ports.ts';

const noState = {
  lastSeq: 0,
  existingSeqs: new Map<string, number>(),
  clientOwners: new Map<string, string>(),
};

describe('planPersist', () => {
  it('numbers new messages after last_seq, in order', () => {
    const plan = planPersist([message(1), message(2)], { ...noState, lastSeq: 5 });
    expect(plan.rows.map((r) => [r.message.id, r.seq, r.isNew])).toEqual([
      [message(1).id, 6, true],
      [message(2).id, 7, true],
    ]);
    expect(plan.lastSeq).toBe(7);
    expect(plan.lastMessage?.id).toBe(message(2).id);
  });

  it('keeps the stored seq of a redelivered message and does not advance last_seq again', () => {
    const plan = planPersist([message(1), message(2)], {
      lastSeq: 7,
      existingSeqs: new Map([
        [message(1).id, 6],
        [message(2).id, 7],
      ]),
      clientOwners: new Map(),
    });
    expect(plan.rows.map((r) => [r.seq, r.isNew])).toEqual([
      [6, false],
      [7, false],
    ]);
    expect(plan.lastSeq).toBe(7);
    expect(plan.lastMessage).toBeNull();
  });

  it('after an interrupted attempt (rows written, last_seq not), numbers new messages after the stored ones', () => {
    const plan = planPersist([message(1), message(2), message(3)], {
      lastSeq: 5,
      existingSeqs: new Map([
        [message(1).id, 6],
        [message(2).id, 7],
      ]),
      clientOwners: new Map(),
    });
    expect(plan.rows.map((r) => r.seq)).toEqual([6, 7, 8]);
    expect(plan.lastSeq).toBe(8);
    expect(plan.lastMessage?.id).toBe(message(3).id);
  });

  it('drops a second message id for the same (sender, clientMsgId), in the store or in the batch', () => {
    const stored = planPersist([message(2, { clientMsgId: 'same' })], {
      ...noState,
      clientOwners: new Map([['alice\u0000same', message(1).id]]),
    });
    expect(stored.rows).toEqual([]);
    expect(stored.duplicates.map((d) => d.id)).toEqual([message(2).id]);

    const inBatch = planPersist(
      [message(1, { clientMsgId: 'x' }), message(2, { clientMsgId: 'x' })],
      noState,
    );
    expect(inBatch.rows.map((r) => r.message.id)).toEqual([message(1).id]);
    expect(inBatch.duplicates.map((d) => d.id)).toEqual([message(2).id]);
    // Another sender may use the same clientMsgId.
    const otherSender = planPersist(
      [message(1, { clientMsgId: 'x' }), message(2, { clientMsgId: 'x', senderId: 'bob' })],
      noState,
    );
    expect(otherSender.rows).toHaveLength(2);
  });

  it('counts a record delivered twice within one batch once', () => {
    const plan = planPersist([message(1), message(1), message(2)], noState);
    expect(plan.rows.map((r) => r.seq)).toEqual([1, 2]);
    expect(plan.lastSeq).toBe(2);
  });

  it('unread count is last_seq minus the read pointer, never negative', () => {
    expect(unreadCount(7, 5)).toBe(2);
    expect(unreadCount(7, null)).toBe(7);
    expect(unreadCount(null, null)).toBe(0);
    expect(unreadCount(3, 9)).toBe(0);
  });
});

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

/** The hop times persistAndFanOut stamps on a bare message (no record timestamp, no send-side trace). */
const stamped = (w: FakeWorld) => ({ fetched: w.now, persisted: w.now, pushed: w.now });

describe('persistAndFanOut', () => {
  const setup = () => {
    const w = new FakeWorld();
    w.members.set('c1', ['alice', 'bob']);
    w.members.set('c2', ['alice', 'carol']);
    w.connect('a1', 'alice');
    w.connect('b1', 'bob');
    w.connect('b2', 'bob');
    w.connect('k1', 'carol');
    return w;
  };

  it('pushes each message to every member connection, the sender included, in order', async () => {
    const w = setup();
    const m1 = message(1);
    const m2 = message(2, { senderId: 'bob' });
    const result = await persistAndFanOut(w.ports(), [m1, m2]);
    expect(result).toMatchObject({ stored: 2, duplicates: 0, delivered: 6 });
    for (const cid of ['a1', 'b1', 'b2']) {
      expect(w.eventsFor(cid)).toEqual([
        { type: 'message', message: m1, trace: stamped(w) },
        { type: 'message', message: m2, trace: stamped(w) },
      ]);
    }
    expect(w.eventsFor('k1')).toEqual([]);
  });

  it('keeps unread exact under redelivery: same rows, same seq, last_seq unchanged', async () => {
    const w = setup();
    const p = w.ports();
    await persistAndFanOut(p, [message(1), message(2)]);
    await persistAndFanOut(p, [message(1), message(2)]);
    expect(w.lastSeq.get('c1')).toBe(2);
    expect([...w.rows.values()].map((r) => r.seq)).toEqual([1, 2]);
    // bob read nothing: 2 unread; alice sent both: her pointer moved past them.
    expect(unreadCount(w.lastSeq.get('c1'), w.pointers.get('c1|bob')?.lastReadSeq)).toBe(2);
    expect(unreadCount(w.lastSeq.get('c1'), w.pointers.get('c1|alice')?.lastReadSeq)).toBe(0);
  });

  it('does not push a retried batch again, but pushes what an interrupted attempt had not pushed', async () => {
    const w = setup();
    const asked: string[][] = [];
    const base = w.ports();
    const p = {
      ...base,
      pushedAlready: (c: string, ids: readonly string[]) => {
        asked.push([...ids]);
        return base.pushedAlready(c, ids);
      },
    };
    const first = await persistAndFanOut(p, [message(1), message(2)]);
    expect(first).toMatchObject({ stored: 2, alreadyPushed: 0, delivered: 6 });
    expect(asked).toEqual([]); // a first attempt stores new rows only: nothing to ask Redis
    // The whole batch comes again (offsets not committed): stored again idempotently, pushed to nobody.
    const again = await persistAndFanOut(p, [message(1), message(2), message(3)]);
    expect(again).toMatchObject({ stored: 3, alreadyPushed: 2, delivered: 3 });
    expect(asked).toEqual([[message(1).id, message(2).id]]);
    for (const cid of ['a1', 'b1', 'b2']) {
      expect(w.eventsFor(cid).map((e) => (e.type === 'message' ? e.message.id : e.type))).toEqual([
        message(1).id,
        message(2).id,
        message(3).id,
      ]);
    }
    // An attempt that died after storing but before pushing: the retry pushes.
    w.storeDown = false;
    const p2 = { ...p, pushToUsers: async () => Promise.reject(new Error('environment killed')) };
    await expect(persistAndFanOut(p2, [message(4)])).rejects.toThrow('environment killed');
    await persistAndFanOut(p, [message(4)]);
    expect(w.eventsFor('b1').at(-1)).toEqual({ type: 'message', message: message(4), trace: stamped(w) });
  });

  it('drops a gone connection and announces the user offline to contacts; slow clients never fail the batch', async () => {
    const w = setup();
    w.goneConnections.add('k1');
    w.slowConnections.add('b1');
    const result = await persistAndFanOut(w.ports(), [message(1, { conversationId: 'c2' }), message(2)]);
    expect(result.gone).toBe(1);
    expect(result.failed).toBe(1);
    expect(w.connections.has('k1')).toBe(false);
    expect(w.lastSeen.has('carol')).toBe(true);
    expect(w.eventsFor('a1')).toContainEqual(
      expect.objectContaining({ type: 'presence', userId: 'carol', online: false }),
    );
  });

  it('rejects when the store is down (so the batch is retried) and delivers once it is back', async () => {
    const w = setup();
    w.storeDown = true;
    const p = w.ports();
    await expect(persistAndFanOut(p, [message(1)])).rejects.toMatchObject({ name: 'NoHostAvailableError' });
    expect(w.pushes).toEqual([]);
    w.storeDown = false;
    await persistAndFanOut(p, [message(1)]);
    expect(w.eventsFor('b1')).toEqual([{ type: 'message', message: message(1), trace: stamped(w) }]);
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

describe('persistAndFanOut: trace and the batch push deadline', () => {
  it('stamps each live message with its hop times (never stored): received, produced, fetched, persisted, pushed', async () => {
    const w = new FakeWorld();
    w.members.set('c1', ['alice', 'bob']);
    w.connect('b1', 'bob');
    const base = w.ports();
    let clock = w.now;
    const p = {
      ...base,
      now: () => clock,
      persistMessages: async (c: string, list: Parameters<typeof base.persistMessages>[1]) => {
        clock += 5;
        const result = await base.persistMessages(c, list);
        return { ...result, persistedAt: clock };
      },
    };
    const inbound = {
      message: message(1),
      partition: 0,
      offset: 7,
      producedAt: w.now - 20,
      trace: { received: w.now - 30 },
    };
    await persistAndFanOut(p, [inbound], { fetchedAt: w.now - 10 });
    expect(w.eventsFor('b1')).toEqual([
      {
        type: 'message',
        message: message(1),
        trace: {
          received: w.now - 30,
          produced: w.now - 20,
          fetched: w.now - 10,
          persisted: w.now + 5,
          pushed: w.now + 5,
        },
      },
    ]);
    expect([...w.rows.values()][0]?.message).toEqual(message(1)); // the stored message has no trace
  });

  it('passes one deadline to every push of the batch, the presence announcements included', async () => {
    const w = new FakeWorld();
    w.members.set('c1', ['alice', 'bob']);
    w.members.set('c2', ['alice', 'carol']);
    w.connect('a1', 'alice');
    w.connect('k1', 'carol');
    w.goneConnections.add('k1');
    const base = w.ports();
    const deadlines: (number | undefined)[] = [];
    const p = {
      ...base,
      pushToUsers: (
        u: readonly string[],
        e: Parameters<typeof base.pushToUsers>[1],
        o?: Parameters<typeof base.pushToUsers>[2],
      ) => {
        deadlines.push(o?.deadline);
        return base.pushToUsers(u, e, o);
      },
    };
    const pushDeadline = w.now + 20_000;
    await persistAndFanOut(p, [message(1), message(2, { conversationId: 'c2' })], { pushDeadline });
    // c1, c2, and carol's offline announcement to her contacts.
    expect(deadlines.length).toBeGreaterThanOrEqual(3);
    expect(new Set(deadlines)).toEqual(new Set([pushDeadline]));
  });
});
