import { waitFor } from '@chat/kit/async';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { publishMessage } from '#adapters/kafka/producer.ts';
import { realtimePorts } from '#adapters/realtime.ts';
import { redis } from '#adapters/redis/client.ts';
import { clientMsgKey, connKey, EXPIRY_KEY, frameKeys, userConnsKey } from '#adapters/redis/keys.ts';
import type { MessageSentRecord } from '#contracts/kafka.ts';
import { limits } from '#contracts/limits.ts';
import type { User } from '#contracts/models.ts';
import { idTime } from '#core/ids.ts';
import { handler as sendHandler } from '#handlers/ws/send-message.ts';
import { connectAs, findRecord as findRecordOf, frame, useHandlerWorld } from './support/handler-world.ts';
import { wsEvent } from './support/realtime-fixtures.ts';

const w = useHandlerWorld('rr');
const { run, messagesTopic } = w;
let alice: User;
let conv: string;
beforeAll(() => {
  ({ alice, conv } = w);
});
const findRecord = (topic: string, messageId: string) => findRecordOf(w, topic, messageId);

/**
 * Records the Redis commands this process sends (at the cluster client, after auto-pipelining: what goes on the
 * wire) and the round trip each one is in: 1 + the highest round trip of any recorded command whose reply had
 * arrived when it was sent. So commands sent together are one round trip, and a command that had to wait for a
 * reply is one more: the number of sequential round trips, as the caller waits them.
 */
function recordRedis() {
  const cluster = redis();
  const original = cluster.sendCommand;
  const sent: { name: string; args: string[]; roundTrip: number }[] = [];
  let settled = 0;
  cluster.sendCommand = function (this: typeof cluster, ...params: Parameters<typeof original>) {
    const [command] = params;
    const roundTrip = settled + 1;
    sent.push({ name: command.name, args: command.args.map(String), roundTrip });
    const done = () => {
      settled = Math.max(settled, roundTrip);
    };
    command.promise.then(done, done);
    return original.apply(this, params);
  } as typeof original;
  const stop = () => {
    cluster.sendCommand = original;
  };
  return { sent, stop };
}

describe('Redis round trips of one send (warm path)', () => {
  const sendFrame = (id: string, clientMsgId: string) =>
    sendHandler(
      wsEvent('sendMessage', id, {
        body: JSON.stringify({ action: 'sendMessage', conversationId: conv, clientMsgId, body: 'rt' }),
      }),
    ).then(frame);

  /** A send, once its (not awaited) markPublished is done too: nothing of it is left to reach Redis later. */
  async function settledSend(id: string, clientMsgId: string) {
    const ack = await sendFrame(id, clientMsgId);
    expect(ack).toMatchObject({ type: 'ack' });
    await waitFor(
      async () => (await redis().get(clientMsgKey(conv, alice.id, clientMsgId)))?.endsWith(':s'),
      { timeoutMs: 5_000, what: 'the warm-up send recorded as published' },
    );
  }

  /** One send, with what Redis saw before the Kafka produce started and in all. */
  async function measuredSend(id: string, clientMsgId: string) {
    const rec = recordRedis();
    const atProduce: { name: string; args: string[]; roundTrip: number }[][] = [];
    const spy = vi.spyOn(realtimePorts, 'publish').mockImplementation(async (record) => {
      atProduce.push([...rec.sent]);
      return publishMessage(record as MessageSentRecord);
    });
    try {
      const ack = await sendFrame(id, clientMsgId);
      // markPublished is not awaited by the send; it is on the wire right after.
      await waitFor(() => rec.sent.some((c) => c.name === 'set' && String(c.args[1]).endsWith(':s')), {
        timeoutMs: 5_000,
        what: 'markPublished',
      });
      return { ack, beforeProduce: atProduce[0] ?? [], all: [...rec.sent] };
    } finally {
      spy.mockRestore();
      rec.stop();
    }
  }

  it('is two round trips before the produce (frame script, clientMsgId claim), three commands in all', async () => {
    const id = await connectAs(alice);
    // Warm: membership cached, scripts loaded, producer connected.
    await settledSend(id, `rt-warm-${run}`);

    const { ack, beforeProduce, all } = await measuredSend(id, `rt-${run}`);
    expect(ack).toMatchObject({ type: 'ack', clientMsgId: `rt-${run}` });
    expect(beforeProduce.map((c) => [c.name, c.roundTrip])).toEqual([
      ['evalsha', 1],
      ['set', 2],
    ]);
    // The frame script's keys: the connection's hash and its frame counter (one slot); the claim is NX GET.
    // (ioredis puts REDIS_KEY_PREFIX, '' here, in front of the keys it sends.)
    const prefix = process.env.REDIS_KEY_PREFIX ?? '';
    const [, numKeys, hashKey, rateKey, now] = beforeProduce[0]?.args ?? [];
    expect([numKeys, hashKey, rateKey]).toEqual([
      '2',
      ...frameKeys(id, Math.floor(Number(now) / 1000)).map((k) => prefix + k),
    ]);
    expect(beforeProduce[1]?.args).toEqual([
      prefix + clientMsgKey(conv, alice.id, `rt-${run}`),
      `${ack.messageId}:p`,
      'EX',
      '86400',
      'NX',
      'GET',
    ]);
    expect(all.map((c) => c.name)).toEqual(['evalsha', 'set', 'set']);
    // Before this change: HGET, PEXPIRE, EVALSHA, ZADD, MULTI, INCR, EXPIRE, EXEC, SET (claim) before the
    // produce in four round trips, and SET (markPublished) awaited after it.
  });

  it('when presence is due, refreshes it beside the claim: still two round trips before the produce', async () => {
    const id = await connectAs(alice);
    await settledSend(id, `rt-warm2-${run}`);
    const r = redis();
    const old = Date.now() - 60_000;
    await r.hset(connKey(id), 'refreshedAt', String(old));
    const scoreBefore = Number(await r.zscore(userConnsKey(alice.id), id));

    const startedAt = Date.now();
    const { beforeProduce, all } = await measuredSend(id, `rt-due-${run}`);
    // What the produce waited for: the frame script (1), then the claim (2), with the refresh's first command
    // beside the claim. The refresh's last command (ZADD on ws:expiry) follows the refresh's reply, beside the
    // produce; it may reach the wire just before the produce starts and is left out here.
    const critical = beforeProduce.filter((c) => c.name !== 'zadd');
    expect(critical.map((c) => [c.name, c.roundTrip]).sort()).toEqual([
      ['evalsha', 1],
      ['evalsha', 2],
      ['set', 2],
    ]);
    // The refresh: the user's set (a script), then the sweeper's list, and the hash records it.
    expect(all.map((c) => c.name).sort()).toEqual(['evalsha', 'evalsha', 'set', 'set', 'zadd']);
    const ttlMs = limits.connectionTtlSeconds * 1000;
    expect(Number(await r.zscore(userConnsKey(alice.id), id))).toBeGreaterThanOrEqual(startedAt + ttlMs);
    expect(Number(await r.zscore(userConnsKey(alice.id), id))).toBeGreaterThan(scoreBefore);
    expect(Number(await r.zscore(EXPIRY_KEY, id))).toBeGreaterThanOrEqual(startedAt + ttlMs);
    expect(Number(await r.hget(connKey(id), 'refreshedAt'))).toBeGreaterThanOrEqual(startedAt);

    // The next frame, within the interval, refreshes nothing.
    const next = await measuredSend(id, `rt-next-${run}`);
    expect(next.all.map((c) => c.name)).toEqual(['evalsha', 'set', 'set']);
  });

  it('stamps trace.received on the Kafka record: when the frame reached the function', async () => {
    const id = await connectAs(alice);
    const before = Date.now();
    const ack = await sendFrame(id, `trace-${run}`);
    const after = Date.now();
    const record = await findRecord(messagesTopic, ack.messageId);
    expect(record?.trace?.received).toBeGreaterThanOrEqual(before);
    expect(record?.trace?.received).toBeLessThanOrEqual(after);
    expect(record?.trace?.received).toBeLessThanOrEqual(idTime(ack.messageId));
  });
});
