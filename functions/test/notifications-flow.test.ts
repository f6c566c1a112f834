/**
 * The core's notification hooks over in-memory ports (issue 15): mentions computed at send, one hand-off of
 * offline notification records per Kafka batch (only when someone is offline, never again on a redelivery,
 * never failing the batch), and the webPush delivery's idempotency, tries and deadline.
 */
import { describe, expect, it } from 'vitest';
import type { NotificationRecord } from '#contracts/kafka.ts';
import type { PushPayload } from '#contracts/notifications.ts';
import { persistAndFanOut, sendMessage } from '#core/messaging.ts';
import type { RealtimePorts } from '#core/ports.ts';
import { deliverNotifications, type Outcome, type Subscription, type WebPushPorts } from '#core/web-push.ts';
import { FakeWorld, message } from './support/fake-ports.ts';

function world() {
  const w = new FakeWorld();
  w.members.set('c1', ['a', 'b', 'c']);
  w.members.set('c2', ['a', 'b']);
  const handed: NotificationRecord[][] = [];
  const lookups: string[] = [];
  let failHandOff = false;
  const base = w.ports();
  const ports: RealtimePorts = {
    ...base,
    // Like the real adapter: who of the users had no live connection.
    pushToUsers: async (userIds, events, options) => {
      const result = await base.pushToUsers(userIds, events, options);
      const online = new Set([...w.connections.values()].map((c) => c.userId));
      return { ...result, offline: userIds.filter((u) => !online.has(u)) };
    },
    memberNames: async (conversationId) => {
      lookups.push(conversationId);
      return (w.members.get(conversationId) ?? []).map((id) => ({ id, username: `user_${id}` }));
    },
    notifyOffline: async (records) => {
      if (failHandOff) throw new Error('broker down');
      handed.push([...records]);
    },
  };
  return { w, ports, handed, lookups, failHandOff: () => (failHandOff = true) };
}

describe('mentions at send', () => {
  it('computes mentions of members from the body; a body without @ looks nothing up', async () => {
    const { w, ports, lookups } = world();
    await sendMessage(
      ports,
      { userId: 'a' },
      { conversationId: 'c1', clientMsgId: 'm1', body: 'hi @user_b @nobody' },
    );
    await sendMessage(ports, { userId: 'a' }, { conversationId: 'c1', clientMsgId: 'm2', body: 'plain' });
    const [first, second] = w.published.map((r) => r.message);
    expect(first?.mentions).toEqual(['b']);
    expect(second?.mentions).toBeUndefined();
    expect(lookups).toEqual(['c1']);
  });
});

describe('offline notification records from persist', () => {
  it('one hand-off per batch, one record per conversation with offline members', async () => {
    const { w, ports, handed } = world();
    w.connect('ca', 'a');
    w.connect('cb', 'b');
    const m1 = message(1, { conversationId: 'c1', senderId: 'a', body: 'to c', mentions: ['c'] });
    const m2 = message(2, { conversationId: 'c2', senderId: 'a', body: 'b is online' });
    const result = await persistAndFanOut(ports, [m1, m2]);
    expect(result.notified).toBe(1);
    expect(handed).toEqual([
      [
        {
          type: 'notify.offline',
          v: 1,
          conversationId: 'c1',
          messages: [{ id: m1.id, senderId: 'a', snippet: 'to c', mentions: ['c'] }],
          userIds: ['c'],
        },
      ],
    ]);
    // The live pushes happened before the hand-off, whatever it does.
    expect(w.pushes.filter((p) => p.connectionId === 'cb')).toHaveLength(2);
  });

  it('nothing when everyone is online, nothing again on a redelivered batch', async () => {
    const { w, ports, handed } = world();
    w.connect('ca', 'a');
    w.connect('cb', 'b');
    await persistAndFanOut(ports, [message(3, { conversationId: 'c2', senderId: 'a' })]);
    expect(handed).toEqual([]);
    const m = message(4, { conversationId: 'c1', senderId: 'a' });
    await persistAndFanOut(ports, [m]);
    await persistAndFanOut(ports, [m]); // Kafka redelivers the batch: already pushed, not handed on again
    expect(handed).toHaveLength(1);
  });

  it('a failed hand-off is logged, never fails the batch', async () => {
    const { w, ports, failHandOff } = world();
    failHandOff();
    const result = await persistAndFanOut(ports, [message(5, { conversationId: 'c1', senderId: 'a' })]);
    expect(result).toMatchObject({ stored: 1, notified: 0 });
    expect(w.logs.some((l) => l.level === 'warn' && l.message.includes('notifications'))).toBe(true);
  });
});

describe('deliverNotifications', () => {
  const record: NotificationRecord = {
    type: 'notify.offline',
    v: 1,
    conversationId: 'c1',
    messages: [{ id: '01AAAAAAAAAAAAAAAAAAAAAAAA', senderId: 'a', snippet: 'hi' }],
    userIds: ['b'],
  };
  const subs: Subscription[] = [
    { endpointId: 'e1', endpoint: 'https://fcm.googleapis.com/1', keys: { p256dh: 'p', auth: 'a' } },
    { endpointId: 'e2', endpoint: 'https://fcm.googleapis.com/2', keys: { p256dh: 'p', auth: 'a' } },
  ];
  function fake(answers: Record<string, Outcome[]>) {
    let now = 0;
    const sent = new Set<string>();
    const calls: string[] = [];
    const removed: string[] = [];
    const ports: WebPushPorts = {
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      heading: async () => ({ groupTitle: null }),
      displayNames: async () => new Map([['a', 'Ann']]),
      mutedMembers: async () => new Set(),
      hidingPreview: async () => new Set(),
      subscriptionsOf: async () => subs.filter((s) => !removed.includes(s.endpointId)),
      alreadySent: async (_u, m, ids) => new Set(ids.filter((id) => sent.has(`${m}|${id}`))),
      markSent: async (_u, m, id) => {
        sent.add(`${m}|${id}`);
      },
      removeSubscription: async (_u, id) => {
        removed.push(id);
      },
      send: async (sub: Subscription, _p: PushPayload) => {
        calls.push(sub.endpointId);
        now += 10;
        return answers[sub.endpointId]?.shift() ?? { kind: 'sent', status: 201 };
      },
    };
    return { ports, calls, removed };
  }

  it('redelivered records notify no device twice', async () => {
    const { ports, calls } = fake({});
    expect(await deliverNotifications(ports, [record], 1e9)).toMatchObject({ sent: 2, skipped: 0 });
    expect(await deliverNotifications(ports, [record], 1e9)).toMatchObject({ sent: 0, skipped: 2 });
    expect(calls).toEqual(['e1', 'e2']);
  });

  it('410 forgets the subscription; transient failures are tried 3 times in all; 4xx once', async () => {
    const t: Outcome = { kind: 'transient', status: 503, reason: 'HTTP 503' };
    const { ports, calls, removed } = fake({
      e1: [{ kind: 'gone', status: 410 }],
      e2: [t, t, t, t],
    });
    expect(await deliverNotifications(ports, [record], 1e9)).toMatchObject({ gone: 1, failed: 1, sent: 0 });
    expect(removed).toEqual(['e1']);
    expect(calls.filter((c) => c === 'e2')).toHaveLength(3);
    const permanent = fake({ e1: [{ kind: 'permanent', status: 400, reason: 'HTTP 400' }] });
    await deliverNotifications(permanent.ports, [record], 1e9);
    expect(permanent.calls.filter((c) => c === 'e1')).toHaveLength(1);
  });

  it('gives up when the deadline leaves no room for another try', async () => {
    const t: Outcome = { kind: 'transient', reason: 'timeout' };
    const { ports, calls } = fake({ e1: [t, t, t], e2: [t, t, t] });
    expect(await deliverNotifications(ports, [record], 100)).toMatchObject({ failed: 2, sent: 0 });
    expect(calls).toEqual(['e1', 'e2']);
  });
});
