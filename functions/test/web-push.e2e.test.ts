/**
 * Notifications end to end (issue 15): the HTTP API, the WebSocket API, persistFanout and the webPush consumer
 * in the local runtime over the real Redis, Kafka and Cassandra, and a push service emulator that checks VAPID
 * and records what it receives; each subscription's payload is decrypted here (RFC 8291) with the keys a browser
 * would have made. Own Kafka topics.
 *
 * "Nothing was pushed for X" is shown without waiting: notification records of one conversation share a Kafka
 * partition and are sent in order, so when a later message's push has arrived, an earlier one would have too.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor } from '@chat/kit/async';
import {
  type LocalRuntime,
  type PushServiceEmulator,
  startLocalRuntime,
  startPushService,
} from '@chat/local/runtime';
import { browserSubscription, connectWs, type TestSubscription, type WsClient } from '@chat/local/testing';
import { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCql } from '#adapters/cql/client.ts';
import { subscriptionsOf } from '#adapters/cql/notifications.ts';
import { closeRedis } from '#adapters/redis/client.ts';
import { connectionsOf } from '#adapters/redis/connections.ts';
import type { Conversation, Message } from '#contracts/models.ts';
import { PushPayload } from '#contracts/notifications.ts';
import { config } from '#platform/config.ts';
import { type Api, httpApi } from './support/http-api.ts';

const run = randomBytes(3).toString('hex');
const topics = {
  messages: `test.push.${run}.messages`,
  dlq: `test.push.${run}.dlq`,
  notifications: `test.push.${run}.notifications`,
};
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: `push-${run}`, brokers, logLevel: 1 });
const password = 'a long enough password';

let rt: LocalRuntime;
let api: Api;
let push: PushServiceEmulator;
const logs: string[] = [];
const clients: WsClient[] = [];
let seq = 0;

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
      { topic: topics.messages, numPartitions: 2 },
      { topic: topics.dlq, numPartitions: 1 },
      { topic: topics.notifications, numPartitions: 2 },
    ],
  });
  await admin.disconnect();
  push = await startPushService();
  rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    env: {
      KAFKA_TOPIC_MESSAGES: topics.messages,
      KAFKA_TOPIC_DLQ: topics.dlq,
      KAFKA_TOPIC_NOTIFICATIONS: topics.notifications,
      JWT_KEYS_FILE: resolve(config.jwtKeysFile()),
      VAPID_KEYS_FILE: resolve(config.vapidKeysFile()),
    },
    functions: [
      'httpAuth',
      'httpConversations',
      'httpNotifications',
      'wsConnect',
      'wsDisconnect',
      'wsDefault',
      'wsSendMessage',
      'wsPing',
      'persistFanout',
      'webPush',
    ],
    kafka: { retryBaseMs: 250, retryMaxMs: 1_000 },
    schedules: false,
    log: (source, line) => logs.push(`[${source}] ${line}`),
  });
  api = httpApi(rt.httpUrl);
  // This file reads the runtime's Redis keys: under its deployment's prefix (docs/local-runtime.md).
  process.env.REDIS_KEY_PREFIX = rt.env.REDIS_KEY_PREFIX;
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await rt?.stop();
  await push?.close();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
  await Promise.all([closeCql(), closeRedis()]);
  mkdirSync('.local/test-logs', { recursive: true });
  writeFileSync('.local/test-logs/web-push.e2e.log', `${logs.join('\n')}\n`);
}, 60_000);

async function signup(name: string): Promise<Session> {
  const username = `p${run}${++seq}${name}`;
  const res = await api('POST', '/auth/signup', {
    body: { username, password, displayName: `${name.toUpperCase()} ${seq}` },
  });
  expect(res.status).toBe(201);
  return res.body;
}

async function connect(s: Session): Promise<WsClient> {
  const t = await api('POST', '/auth/ws-ticket', { token: s.accessToken });
  expect(t.status).toBe(200);
  const c = await connectWs(`${rt.wsUrl}/?ticket=${encodeURIComponent(t.body.ticket)}`);
  clients.push(c);
  return c;
}

async function subscribe(s: Session): Promise<TestSubscription> {
  const sub = browserSubscription(push.newEndpoint());
  const res = await api('POST', '/me/push-subscriptions', {
    token: s.accessToken,
    body: { endpoint: sub.endpoint, keys: sub.keys, expirationTime: null },
  });
  expect(res.status).toBe(201);
  return sub;
}

async function open(a: Session, body: Record<string, unknown>): Promise<Conversation> {
  const res = await api('POST', '/conversations', { token: a.accessToken, body });
  expect(res.status).toBe(201);
  return res.body as Conversation;
}

async function send(c: WsClient, conversationId: string, body: string): Promise<string> {
  const clientMsgId = randomBytes(6).toString('hex');
  c.send({ action: 'sendMessage', conversationId, clientMsgId, body });
  const ack = await c.next((e) => e.type === 'ack' && e.clientMsgId === clientMsgId);
  return ack.messageId as string;
}

/** The decrypted payloads the subscription received (accepted requests only), in order. */
function payloads(sub: TestSubscription): PushPayload[] {
  return push
    .received(sub.endpoint)
    .filter((r) => r.refusal === null)
    .map((r) => PushPayload.parse(JSON.parse(sub.decrypt(r.body))));
}

/** Waits until the subscription has received a push for `messageId`; returns its payloads so far. */
async function pushedFor(sub: TestSubscription, messageId: string): Promise<PushPayload[]> {
  await waitFor(() => payloads(sub).some((p) => p.messageId === messageId), {
    timeoutMs: 30_000,
    what: `a push for ${messageId}`,
  });
  return payloads(sub);
}

describe('Web Push to members who are away', () => {
  it('an offline member gets an encrypted notification (VAPID checked), the online sender none', async () => {
    const [alice, bob] = await Promise.all([signup('alice'), signup('bob')]);
    const [subA, subB] = await Promise.all([subscribe(alice), subscribe(bob)]);
    const dm = await open(alice, { type: 'dm', peerId: bob.user.id });
    const ca = await connect(alice);
    const body = `Lunch at ${'noon '.repeat(60)}?`;
    const id = await send(ca, dm.id, body);
    const got = await pushedFor(subB, id);
    expect(got).toEqual([
      {
        v: 1,
        type: 'message',
        conversationId: dm.id,
        messageId: id,
        conversationTitle: alice.user.displayName,
        senderName: alice.user.displayName,
        snippet: expect.stringMatching(/^Lunch at noon noon .*…$/),
        mention: false,
        hidden: false,
      },
    ]);
    expect(got[0]?.snippet?.length).toBeLessThanOrEqual(200);
    const [request] = push.received(subB.endpoint);
    expect(request?.status).toBe(201);
    expect(request?.vapid?.aud).toBe(push.origin);
    expect(request?.headers.contentEncoding).toBe('aes128gcm');
    expect(request?.body.length).toBeLessThanOrEqual(4096);
    // Alice was online when her message was persisted (and it is hers): nothing for her device.
    const second = await send(ca, dm.id, 'second');
    await pushedFor(subB, second);
    expect(push.received(subA.endpoint)).toEqual([]);
  }, 60_000);

  it("an online member's device gets nothing; once they are away it does", async () => {
    const [alice, bob] = await Promise.all([signup('alice'), signup('bob')]);
    const subB = await subscribe(bob);
    const dm = await open(alice, { type: 'dm', peerId: bob.user.id });
    const [ca, cb] = await Promise.all([connect(alice), connect(bob)]);
    const whileOnline = await send(ca, dm.id, 'you are here');
    await cb.next((e) => e.type === 'message' && (e.message as Message).id === whileOnline);
    await cb.close();
    await waitFor(async () => ((await connectionsOf([bob.user.id])).length === 0 ? true : undefined), {
      timeoutMs: 10_000,
      what: "Bob's connection gone",
    });
    const whileAway = await send(ca, dm.id, 'you are away');
    const got = await pushedFor(subB, whileAway);
    expect(got.map((p) => p.messageId)).toEqual([whileAway]);
  }, 60_000);

  it('mute: a muted conversation pushes only mentions, lists muted and still counts unread', async () => {
    const [alice, bob, carol] = await Promise.all([signup('alice'), signup('bob'), signup('carol')]);
    const subB = await subscribe(bob);
    // a group takes only people alice shares a conversation with (docs/adr/0012): DMs first
    await Promise.all([bob, carol].map((p) => open(alice, { type: 'dm', peerId: p.user.id })));
    const group = await open(alice, {
      type: 'group',
      title: 'Launch',
      memberIds: [bob.user.id, carol.user.id],
    });
    const muted = await api('PUT', `/conversations/${group.id}/settings`, {
      token: bob.accessToken,
      body: { muted: true },
    });
    expect(muted.status).toBe(200);
    expect(muted.body).toEqual({ conversationId: group.id, muted: true });
    const ca = await connect(alice);
    const plain = await send(ca, group.id, 'status update');
    const mention = await send(ca, group.id, `@${bob.user.username} can you review?`);
    const got = await pushedFor(subB, mention);
    expect(got.map((p) => p.messageId)).toEqual([mention]);
    expect(got[0]).toMatchObject({
      conversationTitle: 'Launch',
      senderName: alice.user.displayName,
      mention: true,
    });
    const list = await api('GET', '/conversations', { token: bob.accessToken });
    const conv = (list.body.conversations as Conversation[]).find((c) => c.id === group.id);
    expect(conv?.muted).toBe(true);
    expect(conv?.unreadCount).toBe(2);
    expect(conv?.lastMessage?.id).toBe(mention);
    expect(plain).not.toBe(mention);
    // Unmuted again: every message pushes.
    const unmuted = await api('PUT', `/conversations/${group.id}/settings`, {
      token: bob.accessToken,
      body: { muted: false },
    });
    expect(unmuted.body.muted).toBe(false);
    const after = await send(ca, group.id, 'back to normal');
    expect((await pushedFor(subB, after)).map((p) => p.messageId)).toEqual([mention, after]);
    const single = await api('GET', `/conversations/${group.id}`, { token: bob.accessToken });
    expect(single.body.muted).toBe(false);
  }, 60_000);

  it('mentions: @username of a member becomes mentions on the live message and in history', async () => {
    const [alice, bob, carol, outsider] = await Promise.all([
      signup('alice'),
      signup('bob'),
      signup('carol'),
      signup('dave'),
    ]);
    // a group takes only people alice shares a conversation with (docs/adr/0012): DMs first
    await Promise.all([bob, carol].map((p) => open(alice, { type: 'dm', peerId: p.user.id })));
    const group = await open(alice, {
      type: 'group',
      title: 'Mentions',
      memberIds: [bob.user.id, carol.user.id],
    });
    const [ca, cb] = await Promise.all([connect(alice), connect(bob)]);
    const body = `@${carol.user.username} and @${bob.user.username.toUpperCase()}, not @${outsider.user.username} nor me@${bob.user.username} nor @${alice.user.username}`;
    const id = await send(ca, group.id, body);
    const live = await cb.next((e) => e.type === 'message' && (e.message as Message).id === id);
    expect((live.message as Message).mentions).toEqual([carol.user.id, bob.user.id]);
    const plainId = await send(ca, group.id, 'no mentions here');
    const plainLive = await cb.next((e) => e.type === 'message' && (e.message as Message).id === plainId);
    expect((plainLive.message as Message).mentions).toBeUndefined();
    const history = await api('GET', `/conversations/${group.id}/messages`, { token: bob.accessToken });
    const stored = (history.body.messages as Message[]).find((m) => m.id === id);
    expect(stored?.mentions).toEqual([carol.user.id, bob.user.id]);
    expect((history.body.messages as Message[]).find((m) => m.id === plainId)?.mentions).toBeUndefined();
  }, 60_000);

  it('hide message content: the payload says only "New message"', async () => {
    const [alice, bob] = await Promise.all([signup('alice'), signup('bob')]);
    const subB = await subscribe(bob);
    expect((await api('GET', '/me/settings', { token: bob.accessToken })).body).toEqual({
      settings: { pushPreview: true },
    });
    const put = await api('PUT', '/me/settings', { token: bob.accessToken, body: { pushPreview: false } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ settings: { pushPreview: false } });
    const dm = await open(alice, { type: 'dm', peerId: bob.user.id });
    const ca = await connect(alice);
    const id = await send(ca, dm.id, 'the secret plan');
    const [got] = await pushedFor(subB, id);
    expect(got).toEqual({
      v: 1,
      type: 'message',
      conversationId: dm.id,
      messageId: id,
      conversationTitle: null,
      senderName: null,
      snippet: null,
      mention: false,
      hidden: true,
    });
    expect(subB.decrypt(push.received(subB.endpoint)[0]?.body ?? Buffer.alloc(0))).not.toContain('secret');
  }, 60_000);

  it('a 410 from the push service deletes the subscription; a 500 is tried a bounded number of times', async () => {
    const [alice, bob] = await Promise.all([signup('alice'), signup('bob')]);
    const [gone, flaky] = await Promise.all([subscribe(bob), subscribe(bob)]);
    push.setBehavior(gone.endpoint, { status: 410 });
    push.setBehavior(flaky.endpoint, { status: 500 });
    const dm = await open(alice, { type: 'dm', peerId: bob.user.id });
    const ca = await connect(alice);
    const first = await send(ca, dm.id, 'are you there?');
    await waitFor(async () => ((await subscriptionsOf(bob.user.id)).length === 1 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'the gone subscription deleted',
    });
    expect((await subscriptionsOf(bob.user.id)).map((s) => s.endpoint)).toEqual([flaky.endpoint]);
    // The flaky endpoint recovers: the next message is the first thing it gets after the tries for `first`.
    await waitFor(() => (push.received(flaky.endpoint).length >= 3 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'three tries',
    });
    push.setBehavior(flaky.endpoint, null);
    const second = await send(ca, dm.id, 'now?');
    await pushedFor(flaky, second);
    const tries = push
      .received(flaky.endpoint)
      .map((r) => [r.status, JSON.parse(flaky.decrypt(r.body)).messageId]);
    expect(tries).toEqual([
      [500, first],
      [500, first],
      [500, first],
      [201, second],
    ]);
    expect(push.received(gone.endpoint).map((r) => r.status)).toEqual([410]);
  }, 60_000);
});

describe('Subscriptions: input, ownership, SSRF', () => {
  it('re-registering is idempotent; a device moves to the user who registers it last; DELETE forgets it', async () => {
    const [bob, carol] = await Promise.all([signup('bob'), signup('carol')]);
    const sub = browserSubscription(push.newEndpoint());
    const body = { endpoint: sub.endpoint, keys: sub.keys };
    for (let i = 0; i < 2; i++) {
      const res = await api('POST', '/me/push-subscriptions', { token: bob.accessToken, body });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ subscription: { endpoint: sub.endpoint } });
    }
    expect(await subscriptionsOf(bob.user.id)).toHaveLength(1);
    // The same browser, now signed in as Carol.
    expect((await api('POST', '/me/push-subscriptions', { token: carol.accessToken, body })).status).toBe(
      201,
    );
    expect(await subscriptionsOf(bob.user.id)).toEqual([]);
    expect((await subscriptionsOf(carol.user.id)).map((s) => s.endpoint)).toEqual([sub.endpoint]);
    // Bob cannot delete Carol's device; Carol can, twice (204 both times).
    const del = (s: Session) =>
      api('DELETE', '/me/push-subscriptions', { token: s.accessToken, body: { endpoint: sub.endpoint } });
    expect((await del(bob)).status).toBe(204);
    expect(await subscriptionsOf(carol.user.id)).toHaveLength(1);
    expect((await del(carol)).status).toBe(204);
    expect((await del(carol)).status).toBe(204);
    expect(await subscriptionsOf(carol.user.id)).toEqual([]);
  }, 30_000);

  it('refuses endpoints that are not https on a push service host, and bad input, with 400', async () => {
    const bob = await signup('bob');
    const keys = browserSubscription('x').keys;
    const refused = [
      'http://fcm.googleapis.com/fcm/send/abc',
      'https://169.254.169.254/latest/meta-data/',
      'https://example.com/push/abc',
      'https://fcm.googleapis.com.evil.example/push',
      'https://fcm.googleapis.com:8443/fcm/send/abc',
      'https://user:pw@fcm.googleapis.com/fcm/send/abc',
      'http://10.0.0.1:8080/push/abc',
      'file:///etc/passwd',
      'not a url',
    ];
    for (const endpoint of refused) {
      const res = await api('POST', '/me/push-subscriptions', {
        token: bob.accessToken,
        body: { endpoint, keys },
      });
      expect(res.status, endpoint).toBe(400);
      expect(res.body.error.code, endpoint).toBe('validation_failed');
    }
    const endpoint = push.newEndpoint();
    const bad: unknown[] = [
      { endpoint },
      { endpoint, keys: { p256dh: keys.p256dh } },
      { endpoint, keys: { p256dh: 'not base64url!', auth: keys.auth } },
      { endpoint, keys: { p256dh: keys.p256dh, auth: 'short' } },
      { endpoint: `https://fcm.googleapis.com/${'x'.repeat(2100)}`, keys },
    ];
    for (const body of bad) {
      const res = await api('POST', '/me/push-subscriptions', { token: bob.accessToken, body });
      expect(res.status).toBe(400);
    }
    expect(await subscriptionsOf(bob.user.id)).toEqual([]);
    expect((await api('POST', '/me/push-subscriptions', { body: { endpoint, keys } })).status).toBe(401);
    expect(
      (await api('PUT', '/me/settings', { token: bob.accessToken, body: { pushPreview: 'no' } })).status,
    ).toBe(400);
    expect(
      (await api('PUT', '/me/settings', { token: bob.accessToken, body: { colour: 'red' } })).status,
    ).toBe(400);
    const other = await signup('alice');
    const carol = await signup('carol');
    const dm = await open(other, { type: 'dm', peerId: carol.user.id });
    const notMine = await api('PUT', `/conversations/${dm.id}/settings`, {
      token: bob.accessToken,
      body: { muted: true },
    });
    expect(notMine.status).toBe(404);
    const badMute = await api('PUT', `/conversations/${dm.id}/settings`, {
      token: other.accessToken,
      body: { muted: 'yes' },
    });
    expect(badMute.status).toBe(400);
  }, 30_000);
});
