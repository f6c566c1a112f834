import type { Message, ServerEvent } from '@chat/functions/contracts';
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { Api } from './client.ts';
import { Connections } from './connections.ts';
import { summarizeLoad } from './load-summary.ts';
import type { Conn } from './tally.ts';
import { type BenchUser, World } from './world.ts';

// Pure accounting tests: fake sockets, no runtime. Users 0,1,2; a DM (0,1) and a group (0,1,2).
function setup() {
  const world = new World(new Api('http://127.0.0.1:1'), { runId: 'test', users: 3, groupSize: 3 });
  for (let i = 0; i < 3; i++) {
    world.users.push({
      idx: i,
      id: `u${i}`,
      username: `u${i}`,
      accessToken: '',
      refreshToken: '',
      tokenAt: 0,
      conversations: [],
      observer: false,
    } satisfies BenchUser);
  }
  world.conversations.push({ idx: 0, id: 'dm', type: 'dm', members: [0, 1] });
  world.conversations.push({ idx: 1, id: 'grp', type: 'group', members: [0, 1, 2] });
  const conns = new Connections(world, { httpUrl: '', wsUrl: '' });
  const frames: string[] = [];
  for (let i = 0; i < 3; i++) {
    const ws = { readyState: 1, OPEN: 1, send: (d: string) => frames.push(d) } as unknown as WebSocket;
    conns.conns.push({
      idx: i,
      user: i,
      ws,
      openedAt: 1,
      closedAt: null,
      closeCode: null,
      closedByUs: false,
      received: new Set(),
      duplicates: 0,
      sends: 0,
    } satisfies Conn);
  }
  const conn = (i: number) => conns.conns[i] as Conn;
  const ack = (seq: number, id: string) => {
    const m = conns.sent[seq];
    conns.handleEvent(conn(m?.conn ?? 0), {
      type: 'ack',
      clientMsgId: m?.clientMsgId ?? '',
      messageId: id,
      conversationId: 'x',
    });
  };
  const deliver = (seq: number, id: string, to: number) => {
    const m = conns.sent[seq];
    const message: Message = {
      id,
      conversationId: 'x',
      senderId: 'u0',
      clientMsgId: m?.clientMsgId ?? '',
      body: 'b',
      sentAt: new Date().toISOString(),
    };
    conns.handleEvent(conn(to), { type: 'message', message } satisfies ServerEvent);
  };
  const summary = () =>
    summarizeLoad(
      conns,
      { rate: 1, durationSec: 1, sendWindowMs: 1000, skipped: 0 },
      { drainedMs: 0, complete: true },
      null,
    );
  return { conns, frames, ack, deliver, summary, conn };
}

describe('load accounting', () => {
  it('sends protocol frames with unique client message ids', () => {
    const { conns, frames } = setup();
    conns.send(0, 0);
    conns.send(0, 1);
    const parsed = frames.map(
      (f) => JSON.parse(f) as { action: string; clientMsgId: string; conversationId: string },
    );
    expect(parsed.map((p) => p.action)).toEqual(['sendMessage', 'sendMessage']);
    expect(parsed.map((p) => p.conversationId)).toEqual(['dm', 'grp']);
    expect(new Set(parsed.map((p) => p.clientMsgId)).size).toBe(2);
  });

  it('counts nothing lost when every member connection got every acked message', () => {
    const { conns, ack, deliver, summary } = setup();
    conns.send(0, 0);
    ack(0, 'M0');
    deliver(0, 'M0', 0);
    deliver(0, 'M0', 1);
    const s = summary();
    expect(s).toMatchObject({ acked: 1, lost: 0, duplicated: 0, deliveries: 2 });
    expect(conns.missingDeliveries()).toBe(0);
  });

  it('counts an acked message a member connection never got as LOST', () => {
    const { conns, ack, deliver, summary } = setup();
    conns.send(0, 1); // the group: connections 0, 1 and 2 must all get it
    ack(0, 'M0');
    deliver(0, 'M0', 0);
    deliver(0, 'M0', 1);
    expect(summary()).toMatchObject({ lost: 1, lostDeliveries: 1 });
  });

  it('does not expect a message on a connection that closed unexpectedly, nor one that opened after the send', () => {
    const { conns, ack, deliver, summary, conn } = setup();
    conns.send(0, 1);
    ack(0, 'M0');
    deliver(0, 'M0', 0);
    deliver(0, 'M0', 1);
    conn(2).closedAt = 5; // dropped by the server, not by us
    expect(summary().lost).toBe(0);
    conn(2).closedAt = null;
    conn(2).openedAt = (conns.sent[0]?.sentAt ?? 0) + 1;
    expect(summary().lost).toBe(0);
  });

  it('does not count a refused (never acked) message as lost', () => {
    const { conns, summary, conn } = setup();
    conns.send(0, 0);
    conns.handleEvent(conn(0), {
      type: 'error',
      code: 'rate_limited',
      message: 'slow down',
      clientMsgId: conns.sent[0]?.clientMsgId ?? '',
    });
    expect(summary()).toMatchObject({
      refused: 1,
      lost: 0,
      unanswered: 0,
      errorsByCode: { rate_limited: 1 },
    });
  });

  it('counts the same message twice on one connection as DUPLICATED, and twice on two connections as fine', () => {
    const { conns, ack, deliver, summary } = setup();
    conns.send(0, 0);
    ack(0, 'M0');
    deliver(0, 'M0', 0);
    deliver(0, 'M0', 1);
    expect(summary().duplicated).toBe(0);
    deliver(0, 'M0', 1);
    expect(summary()).toMatchObject({ duplicated: 1, duplicatedDeliveries: 1, deliveries: 2 });
  });

  it('ignores messages of other runs and forgets warm-up messages after a reset', () => {
    const { conns, ack, deliver, summary, conn } = setup();
    conns.send(0, 0);
    ack(0, 'M0');
    conns.resetTracking();
    conns.handleEvent(conn(1), {
      type: 'message',
      message: {
        id: 'X',
        conversationId: 'dm',
        senderId: 'u9',
        clientMsgId: 'someone-else-1',
        body: 'b',
        sentAt: new Date().toISOString(),
      },
    });
    expect(summary()).toMatchObject({ sent: 0, acked: 0, deliveries: 0, lost: 0 });
    conns.send(1, 0);
    ack(0, 'M1');
    deliver(0, 'M1', 0);
    deliver(0, 'M1', 1);
    expect(summary()).toMatchObject({ sent: 1, acked: 1, deliveries: 2, lost: 0 });
  });

  it('counts a send as not delivered within 15 s when unacked, refused, missing somewhere, or late', () => {
    const { conns, ack, deliver, summary, conn } = setup();
    for (let i = 0; i < 5; i++) conns.send(0, 0);
    ack(0, 'M0'); // delivered to both in time
    deliver(0, 'M0', 0);
    deliver(0, 'M0', 1);
    ack(1, 'M1'); // the peer never got it
    deliver(1, 'M1', 0);
    ack(2, 'M2'); // the peer got it 16 s after the send
    deliver(2, 'M2', 0);
    deliver(2, 'M2', 1);
    const m2 = conns.sent[2];
    if (m2) m2.lastDeliveryAt = m2.sentAt + 16_000;
    conns.handleEvent(conn(0), {
      type: 'error',
      code: 'rate_limited',
      message: 'slow down',
      clientMsgId: conns.sent[3]?.clientMsgId ?? '',
    });
    // sent[4]: never answered
    expect(summary()).toMatchObject({ notDeliveredWithin15s: 4, notDeliveredWithin15sShare: 0.8 });
  });
});
