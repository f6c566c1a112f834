/**
 * Each local runtime is a deployment of its own (deployment.ts): a test's runtime (port 0, a fresh id) and a
 * runtime on the default names (`npm start`'s: `chat.messages`, no Redis key prefix) share Redis, Kafka and
 * Cassandra, yet neither consumes the other's records nor pushes to, or forgets, the other's connections.
 * Both carry live traffic at the same time over the public protocol (HTTP API + WebSocket). When a real
 * `npm start` answers on HTTP_PORT (8081), it is the default side (a second default runtime would share its
 * consumer group); otherwise this file starts one.
 */
import { listObjects, type S3Target } from '@chat/functions/operations';
import { waitFor } from '@chat/kit/async';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultAddresses } from '../services/index.ts';
import { connectWs, type WsClient, type WsEvent } from '../testing/ws-client.ts';
import { DEFAULT_DEPLOYMENT, type LocalRuntime, startLocalRuntime } from './index.ts';

interface Endpoints {
  readonly httpUrl: string;
  readonly wsUrl: string;
}

interface Member {
  readonly id: string;
  readonly ws: WsClient;
}

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: 'deployment-test', brokers, logLevel: logLevel.NOTHING });

const call = async <T>(base: string, method: string, path: string, body?: unknown, token?: string) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
};

const unique = (prefix: string) =>
  `${prefix}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`.slice(0, 32);

/** A signed-up user with an open WebSocket on that side. */
async function member(side: Endpoints, prefix: string): Promise<Member & { token: string }> {
  const auth = await call<{ accessToken: string; user: { id: string } }>(
    side.httpUrl,
    'POST',
    '/auth/signup',
    {
      username: unique(prefix),
      password: 'deployment test password',
    },
  );
  const { ticket } = await call<{ ticket: string }>(
    side.httpUrl,
    'POST',
    '/auth/ws-ticket',
    {},
    auth.accessToken,
  );
  return { id: auth.user.id, token: auth.accessToken, ws: await connectWs(`${side.wsUrl}/`, { ticket }) };
}

const isMessage = (clientMsgId: string) => (e: WsEvent) =>
  e.type === 'message' && (e.message as { clientMsgId?: string } | undefined)?.clientMsgId === clientMsgId;

/**
 * Two users and a DM on one side, then `rounds` messages each way, one at a time: each must reach the other
 * user live (a connection registration lost to the other runtime's 410 would stop the next delivery).
 */
async function conversation(side: Endpoints, tag: string, rounds: number): Promise<Member[]> {
  const [a, b] = await Promise.all([member(side, `${tag}a`), member(side, `${tag}b`)]);
  const dm = await call<{ id: string }>(
    side.httpUrl,
    'POST',
    '/conversations',
    { type: 'dm', peerId: b.id },
    a.token,
  );
  for (let i = 0; i < rounds; i++) {
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const clientMsgId = `${tag}-${i}-${from === a ? 'a' : 'b'}`;
      from.ws.send({ action: 'sendMessage', conversationId: dm.id, clientMsgId, body: `${tag} ${i}` });
      await Promise.all([
        to.ws.next(isMessage(clientMsgId), 20_000),
        from.ws.next(isMessage(clientMsgId), 20_000),
      ]);
    }
  }
  return [a, b];
}

/** The client message ids of every live message a connection received. */
const received = (m: Member): string[] =>
  m.ws.events
    .filter((e) => e.type === 'message')
    .map((e) => String((e.message as { clientMsgId?: string }).clientMsgId));

describe('two runtimes on one set of services are two deployments', () => {
  let fresh: LocalRuntime;
  let byDefault: LocalRuntime | undefined;
  let defaultSide: Endpoints;
  const members: Member[] = [];

  beforeAll(async () => {
    const port = process.env.HTTP_PORT ?? '8081';
    const npmStart = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.headers.has('apigw-requestid'),
      () => false,
    );
    const options = { wsPort: 0, httpPort: 0, log: 'silent', schedules: false } as const;
    [fresh, byDefault] = await Promise.all([
      startLocalRuntime({ ...options, kafka: { retryBaseMs: 250, retryMaxMs: 1_000 } }),
      npmStart ? undefined : startLocalRuntime({ ...options, deploymentId: DEFAULT_DEPLOYMENT }),
    ]);
    defaultSide = byDefault ?? {
      httpUrl: `http://127.0.0.1:${port}`,
      wsUrl: `ws://127.0.0.1:${process.env.WS_PORT ?? '8080'}`,
    };
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(members.map((m) => m.ws.close()));
    await Promise.allSettled([fresh?.stop(), byDefault?.stop()]);
  }, 60_000);

  it('names: a fresh id for port 0 (own topics, key prefix), the contract names for default', () => {
    const id = fresh.deploymentId;
    expect(id).toMatch(/^rt-[0-9a-f]{10}$/);
    expect(fresh.env.KAFKA_TOPIC_MESSAGES).toBe(`${id}.chat.messages`);
    expect(fresh.env.KAFKA_TOPIC_DLQ).toBe(`${id}.chat.messages.dlq`);
    expect(fresh.env.REDIS_KEY_PREFIX).toBe(`${id}:`);
    expect(fresh.env.ATTACHMENTS_BUCKET).toBe(`chat-attachments-${id}`);
    expect(fresh.kafkaMappings().map((m) => m.topic)).toEqual([`${id}.chat.messages`]);
    if (byDefault) {
      expect(byDefault.deploymentId).toBe('default');
      expect(byDefault.env.KAFKA_TOPIC_MESSAGES).toBe('chat.messages');
      expect(byDefault.env.KAFKA_TOPIC_DLQ).toBe('chat.messages.dlq');
      expect(byDefault.env.REDIS_KEY_PREFIX).toBe('');
      expect(byDefault.env.ATTACHMENTS_BUCKET).toBe('chat-attachments');
      // Consumer groups derive from the deployment: never shared between the two.
      const groups = (rt: LocalRuntime) => rt.kafkaMappings().map((m) => m.consumerGroupId);
      expect(groups(fresh)).not.toEqual(groups(byDefault));
    }
  });

  it('live traffic on both at once: each side gets its own messages only, and keeps its connections', async () => {
    const rounds = 4;
    const [mine, theirs] = await Promise.all([
      conversation(fresh, 'iso', rounds),
      conversation(defaultSide, 'dflt', rounds),
    ]);
    members.push(...mine, ...theirs);
    const expected = (tag: string) =>
      Array.from({ length: rounds }, (_, i) => [`${tag}-${i}-a`, `${tag}-${i}-b`])
        .flat()
        .sort();
    // Each user saw exactly its DM's messages, each once: nothing of the other deployment's.
    for (const m of mine) expect(received(m).sort()).toEqual(expected('iso'));
    for (const m of theirs) expect(received(m).sort()).toEqual(expected('dflt'));
    // Every connection is still open and registered: one more round each way is delivered live.
    for (const m of [...mine, ...theirs]) expect(m.ws.ws.readyState).toBe(m.ws.ws.OPEN);
    expect(fresh.connections()).toHaveLength(2);
    await Promise.all([conversation(fresh, 'iso2', 1), conversation(defaultSide, 'dflt2', 1)]).then((more) =>
      members.push(...more.flat()),
    );
  }, 120_000);

  it("stop() deletes a fresh deployment's topics, consumer group and bucket", async () => {
    const topics = [fresh.env.KAFKA_TOPIC_MESSAGES, fresh.env.KAFKA_TOPIC_DLQ] as string[];
    const s3 = defaultAddresses();
    const bucket: S3Target = {
      endpoint: s3.s3Endpoint,
      bucket: fresh.env.ATTACHMENTS_BUCKET as string,
      region: 'us-east-1',
      credentials: async () => s3.s3Credentials,
    };
    expect(await listObjects(bucket, '')).toEqual([]); // it exists (a missing bucket is an error)
    const groups = fresh.kafkaMappings().map((m) => m.consumerGroupId);
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).toEqual(expect.arrayContaining(topics));
      await Promise.allSettled(members.splice(0).map((m) => m.ws.close()));
      await fresh.stop();
      await waitFor(async () => !(await admin.listTopics()).some((t) => topics.includes(t)), {
        timeoutMs: 15_000,
        what: `${topics.join(', ')} deleted`,
      });
      await expect(listObjects(bucket, '')).rejects.toMatchObject({ code: 'NoSuchBucket' });
      const left = (await admin.listGroups()).groups.map((g) => g.groupId);
      expect(left.filter((g) => groups.includes(g))).toEqual([]);
      // The default deployment's topics stay.
      expect(await admin.listTopics()).toEqual(
        expect.arrayContaining(['chat.messages', 'chat.messages.dlq']),
      );
    } finally {
      await admin.disconnect();
    }
  }, 60_000);
});
