import { describe, expect, it } from 'vitest';
import { persistAndFanOut } from '#core/messaging.ts';
import { planPersist, unreadCount } from '#core/persist.ts';
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
