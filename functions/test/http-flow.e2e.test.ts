/**
 * The full flow a client lives through, end to end: HTTP API and WebSocket API of the local runtime (API Gateway
 * emulator, Kafka event source mapping) over the real Redis, Kafka and Cassandra. Sign up two users over HTTP,
 * open a DM, connect with one-time tickets, send over the WebSocket, page the history both ways over HTTP, mark
 * read over HTTP and over the WebSocket, and check unread counts, receipts and presence. Own Kafka topics, so no
 * other runtime's consumer group takes this file's records.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type LocalRuntime, startLocalRuntime } from '@chat/local/runtime';
import { connectWs, refusedWith, type WsClient } from '@chat/local/testing';
import { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCql } from '#adapters/cql/client.ts';
import { closeRedis } from '#adapters/redis/client.ts';
import type { Conversation, Message } from '#contracts/models.ts';
import { config } from '#platform/config.ts';
import { type Api, httpApi } from './support/http-api.ts';

const run = randomBytes(3).toString('hex');
const topic = `test.httpflow.${run}.messages`;
const dlq = `test.httpflow.${run}.dlq`;
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: `httpflow-${run}`, brokers, logLevel: 1 });
const password = 'a long enough password';

let rt: LocalRuntime;
let api: Api;
const logs: string[] = [];
const clients: WsClient[] = [];

interface Session {
  user: { id: string; username: string; displayName: string };
  accessToken: string;
}

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: 2 },
      { topic: dlq, numPartitions: 1 },
    ],
  });
  await admin.disconnect();
  rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    env: { KAFKA_TOPIC_MESSAGES: topic, KAFKA_TOPIC_DLQ: dlq, JWT_KEYS_FILE: resolve(config.jwtKeysFile()) },
    functions: [
      'httpAuth',
      'httpConversations',
      'httpDirectory',
      'wsConnect',
      'wsDisconnect',
      'wsDefault',
      'wsSendMessage',
      'wsMarkRead',
      'wsPing',
      'persistFanout',
    ],
    kafka: { retryBaseMs: 250, retryMaxMs: 1_000 },
    schedules: false,
    log: (source, line) => logs.push(`[${source}] ${line}`),
  });
  api = httpApi(rt.httpUrl);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await rt?.stop();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => undefined);
  await admin.disconnect();
  await Promise.all([closeCql(), closeRedis()]);
  mkdirSync('.local/test-logs', { recursive: true });
  writeFileSync('.local/test-logs/http-flow.e2e.log', `${logs.join('\n')}\n`);
}, 60_000);

async function signup(name: string): Promise<Session> {
  const res = await api('POST', '/auth/signup', { body: { username: `f${run}${name}`, password } });
  expect(res.status).toBe(201);
  return res.body;
}

/** A WebSocket connection opened the way a client does it: ticket over HTTP, then the upgrade. */
async function connect(s: Session): Promise<WsClient> {
  const t = await api('POST', '/auth/ws-ticket', { token: s.accessToken });
  expect(t.status).toBe(200);
  const c = await connectWs(`${rt.wsUrl}/?ticket=${encodeURIComponent(t.body.ticket)}`);
  clients.push(c);
  return c;
}

const ofType =
  (type: string, extra: Record<string, unknown> = {}) =>
  (e: Record<string, unknown>) =>
    e.type === type && Object.entries(extra).every(([k, v]) => e[k] === v);

async function conversationOf(s: Session, id: string): Promise<Conversation> {
  const res = await api('GET', '/conversations', { token: s.accessToken });
  expect(res.status).toBe(200);
  const c = (res.body.conversations as Conversation[]).find((x) => x.id === id);
  if (!c) throw new Error(`conversation ${id} not listed`);
  return c;
}

describe('When two users sign up, open a DM and talk', () => {
  it('delivers, pages, counts unread and shows receipts across HTTP and WebSocket', async () => {
    // Sign up over HTTP; Bob is online before the DM exists
    const [alice, bob] = await Promise.all([signup('alice'), signup('bob')]);
    const cb = await connect(bob);

    // Alice opens the DM over HTTP; Bob's socket hears about it
    const created = await api('POST', '/conversations', {
      token: alice.accessToken,
      body: { type: 'dm', peerId: bob.user.id },
    });
    expect(created.status).toBe(201);
    const conv = created.body as Conversation;
    const announced = await cb.next(ofType('conversation'));
    expect((announced.conversation as Conversation).id).toBe(conv.id);

    // Alice connects and sends 7 messages over the WebSocket
    const ca = await connect(alice);
    const ids: string[] = [];
    for (let i = 1; i <= 7; i++) {
      ca.send({ action: 'sendMessage', conversationId: conv.id, clientMsgId: `m${i}`, body: `hello ${i}` });
      const ack = await ca.next(ofType('ack', { clientMsgId: `m${i}` }));
      ids.push(ack.messageId as string);
    }
    for (const id of ids) {
      const got = await cb.next((e) => e.type === 'message' && (e.message as Message).id === id);
      expect((got.message as Message).senderId).toBe(alice.user.id);
    }

    // History: back in pages of 3 (newest first), then forward from the 2nd message (oldest first)
    const back: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&before=${cursor}` : '';
      const page = await api('GET', `/conversations/${conv.id}/messages?limit=3${q}`, {
        token: bob.accessToken,
      });
      expect(page.status).toBe(200);
      back.push(...page.body.messages.map((m: Message) => m.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(back).toEqual([...ids].reverse());
    const fwd: string[] = [];
    cursor = ids[1] ?? null;
    while (cursor) {
      const page = await api('GET', `/conversations/${conv.id}/messages?after=${cursor}&limit=2`, {
        token: alice.accessToken,
      });
      fwd.push(...page.body.messages.map((m: Message) => m.id));
      cursor = page.body.nextCursor;
    }
    expect(fwd).toEqual(ids.slice(2));

    // Unread counts: Bob has 7; Alice, the sender, has read her own messages
    const bobView = await conversationOf(bob, conv.id);
    expect(bobView.unreadCount).toBe(7);
    expect(bobView.lastMessage?.id).toBe(ids[6]);
    expect(bobView.lastReadId).toBeNull();
    expect((await conversationOf(alice, conv.id)).unreadCount).toBe(0);

    // Bob marks read up to the 5th over HTTP: Alice gets a receipt on her socket
    const read = await api('POST', `/conversations/${conv.id}/read`, {
      token: bob.accessToken,
      body: { messageId: ids[4] },
    });
    expect(read.status).toBe(204);
    const receipt = await ca.next(ofType('receipt', { userId: bob.user.id, lastReadId: ids[4] }));
    expect(receipt.conversationId).toBe(conv.id);
    expect((await conversationOf(bob, conv.id)).unreadCount).toBe(2);

    // ...then to the last one over the WebSocket
    cb.send({ action: 'markRead', conversationId: conv.id, messageId: ids[6] });
    await ca.next(ofType('receipt', { userId: bob.user.id, lastReadId: ids[6] }));
    const after = await conversationOf(bob, conv.id);
    expect(after.unreadCount).toBe(0);
    expect(after.lastReadId).toBe(ids[6]);

    // Receipts as Alice sees them: Bob's, and her own (a sender has read what she sent)
    const receipts = await api('GET', `/conversations/${conv.id}/receipts`, { token: alice.accessToken });
    expect(receipts.status).toBe(200);
    expect(receipts.body.receipts).toHaveLength(2);
    expect(receipts.body.receipts).toContainEqual({
      userId: bob.user.id,
      lastReadId: ids[6],
      readAt: expect.any(String),
    });
    expect(receipts.body.receipts).toContainEqual({
      userId: alice.user.id,
      lastReadId: ids[6],
      readAt: expect.any(String),
    });

    // Presence and the directory see both online
    const presence = await api('GET', `/presence?userIds=${alice.user.id},${bob.user.id}`, {
      token: bob.accessToken,
    });
    expect(presence.body.presence.map((p: { online: boolean }) => p.online)).toEqual([true, true]);
    const dir = await api('GET', `/users?query=f${run}a`, { token: bob.accessToken });
    expect(dir.body.users).toEqual([{ ...alice.user, online: true }]);

    // Alice goes away: offline with a last-seen time
    await ca.close();
    await expect
      .poll(
        async () =>
          (await api('GET', `/presence?userIds=${alice.user.id}`, { token: bob.accessToken })).body
            .presence[0],
        {
          timeout: 10_000,
        },
      )
      .toMatchObject({ online: false, lastSeenAt: expect.any(String) });
  });
});

describe('When a ticket is used twice or forged', () => {
  it('refuses the upgrade with 401', async () => {
    const s = await signup('tix');
    const t = await api('POST', '/auth/ws-ticket', { token: s.accessToken });
    const url = `${rt.wsUrl}/?ticket=${encodeURIComponent(t.body.ticket)}`;
    const c = await connectWs(url);
    clients.push(c);
    expect(await refusedWith(url)).toBe(401);
    expect(await refusedWith(`${rt.wsUrl}/?ticket=${randomBytes(32).toString('base64url')}`)).toBe(401);
    // a JWT is not a ticket
    expect(await refusedWith(`${rt.wsUrl}/?ticket=${encodeURIComponent(s.accessToken)}`)).toBe(401);
  });
});

describe('When the creator adds a member to a group', () => {
  it('the new member is told over the WebSocket and sees the group with its unread count', async () => {
    const [owner, member, joiner] = await Promise.all([signup('own'), signup('mem'), signup('join')]);
    const cj = await connect(joiner);
    // consent (docs/adr/0012): the owner already shares a DM with each of them
    for (const peer of [member, joiner]) {
      await api('POST', '/conversations', {
        token: owner.accessToken,
        body: { type: 'dm', peerId: peer.user.id },
      });
    }
    await cj.next(ofType('conversation')); // the DM
    const g = await api('POST', '/conversations', {
      token: owner.accessToken,
      body: { type: 'group', title: 'Crew', memberIds: [member.user.id] },
    });
    expect(g.status).toBe(201);
    const co = await connect(owner);
    co.send({
      action: 'sendMessage',
      conversationId: g.body.id,
      clientMsgId: 'g1',
      body: 'before you joined',
    });
    await co.next(ofType('message'));

    const added = await api('POST', `/conversations/${g.body.id}/members`, {
      token: owner.accessToken,
      body: { memberIds: [joiner.user.id] },
    });
    expect(added.status).toBe(200);
    const event = await cj.next(ofType('conversation'));
    const seen = event.conversation as Conversation;
    expect(seen.id).toBe(g.body.id);
    expect(seen.members.map((m) => m.id).sort()).toEqual(
      [owner.user.id, member.user.id, joiner.user.id].sort(),
    );
    expect(seen.memberCount).toBe(3);
    expect(seen.unreadCount).toBe(1);
    expect(seen.lastReadId).toBeNull();
    expect((await conversationOf(joiner, g.body.id)).unreadCount).toBe(1);
  });
});
