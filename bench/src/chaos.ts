/**
 * Chaos under steady load: each scenario runs the load generator at a steady rate, injects one fault, keeps
 * sending through it, then accounts for every acked message (zero LOST, zero DUPLICATED, unread counts exact)
 * and reports how long delivery took to resume. Plus poison records (dead-letter topic, no stall) and the
 * WebSocket fuzzer.
 *
 * Faults: kill the persist function's busy execution environment mid-batch; kill -9 Kafka and start it again;
 * restart Cassandra; restart Redis (the service faults go through the services manager and disturb everyone
 * using the shared services, so they run only in `npm run chaos`, never inside `npm test`).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { ChatRecord, DeadLetterRecord } from '@chat/functions/contracts';
import { defaultAddresses } from '@chat/local/services';
import { Kafka, logLevel } from 'kafkajs';
import type { Api } from './client.ts';
import { Connections } from './connections.ts';
import { verifyHistory } from './history-check.ts';
import { type LoadResult, summarizeLoad } from './load-summary.ts';
import { log, Progress } from './progress.ts';
import type { RuntimeHandle } from './runtime.ts';
import { sendAtRate } from './send-loop.ts';
import { killService, restartService, startService } from './services.ts';
import type { BenchUser, World } from './world.ts';

export type FaultName = 'persist-env-kill' | 'kafka-kill9' | 'cassandra-restart' | 'redis-restart';

export interface ChaosScenarioOptions {
  fault: FaultName;
  connections: number;
  rate: number;
  /** Seconds of load before the fault and after the fault (recovery), at least. */
  beforeSec: number;
  afterSec: number;
  drainTimeoutSec: number;
}

export interface ChaosScenarioResult {
  fault: FaultName;
  /** What was done, with timings relative to the fault. */
  actions: string[];
  faultAtSec: number;
  /** Service back (restart done) after the fault, seconds; null for in-runtime faults. */
  serviceBackAfterSec: number | null;
  /**
   * From the fault to the end of the longest delivery stall that started after it (0 when no stall over 1 s),
   * seconds; null when nothing was delivered after the fault.
   */
  deliveryResumedAfterSec: number | null;
  /** The longest stretch without any first delivery, starting at or after the fault, seconds. */
  longestDeliveryGapSec: number;
  /** Sends refused while the fault lasted (the client sees `error` frames; nothing was acked for them). */
  refusedDuringFault: number;
  /** Worst send→delivery latency of a message sent within ±5 s of the fault (ms). */
  worstLatencyAroundFaultMs: number | null;
  load: LoadResult;
  unreadExact: boolean;
  /**
   * The durable guarantees: LOST = 0, no duplicate in history, unread counts exact, delivery resumed, drained.
   * Duplicate deliveries are reported apart (exactlyOnceDelivery): the protocol promises at-least-once delivery
   * and a batch retried after a crash pushes its messages again.
   */
  ok: boolean;
  exactlyOnceDelivery: boolean;
}

async function injectFault(
  fault: FaultName,
  rt: RuntimeHandle,
  actions: string[],
  t0: number,
): Promise<number | null> {
  const at = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  switch (fault) {
    case 'persist-env-kill': {
      // Catch the persist function mid-batch: poll for a busy environment and SIGKILL it, three times.
      let kills = 0;
      const until = performance.now() + 20_000;
      while (kills < 3 && performance.now() < until) {
        const n = await rt.killEnvironment('persistFanout', 'busy');
        if (n > 0) {
          kills++;
          actions.push(`${at()}: SIGKILL ${n} persistFanout environment(s) mid-invocation`);
          await delay(1_000);
        } else await delay(20);
      }
      if (kills === 0)
        throw new Error('no persistFanout environment was ever busy within 20 s: nothing to kill');
      return null;
    }
    case 'kafka-kill9': {
      const pid = await killService('kafka');
      actions.push(`${at()}: kill -9 Kafka (pid ${pid})`);
      const tUp = performance.now();
      await startService('kafka');
      actions.push(
        `${at()}: Kafka answers again (start took ${((performance.now() - tUp) / 1000).toFixed(1)} s)`,
      );
      return performance.now();
    }
    case 'cassandra-restart':
    case 'redis-restart': {
      const name = fault === 'redis-restart' ? 'redis' : 'cassandra';
      actions.push(`${at()}: restarting ${name} through the services manager`);
      await restartService(name);
      actions.push(`${at()}: ${name} answers again`);
      return performance.now();
    }
  }
}

/** The longest gap between consecutive delivery times that starts at or after `from` (ms, performance.now()). */
export function deliveryGap(times: number[], from: number): { gapMs: number; resumedAt: number | null } {
  const ts = times.filter((t) => t >= from - 1_000).sort((a, b) => a - b);
  const after = ts.filter((t) => t > from);
  if (after.length === 0) return { gapMs: Number.POSITIVE_INFINITY, resumedAt: null };
  let prev = Math.max(from, ts[0] ?? from);
  let best = { gapMs: 0, resumedAt: from };
  for (const t of ts) {
    if (t < prev) continue;
    if (t - prev > best.gapMs) best = { gapMs: t - prev, resumedAt: t };
    prev = t;
  }
  return best.gapMs < 1_000 ? { gapMs: best.gapMs, resumedAt: from } : best;
}

export async function runChaosScenario(
  world: World,
  rt: RuntimeHandle,
  o: ChaosScenarioOptions,
  groupShare = 0.25,
): Promise<ChaosScenarioResult> {
  log(`chaos ${o.fault}: ${o.connections} connections at ${o.rate} msg/s`);
  const conns = new Connections(world, rt.endpoints);
  conns.reconnect = true;
  await conns.open(o.connections);
  const t0 = performance.now();
  const actions: string[] = [];
  let faultAt = 0;
  let serviceBack: number | null = null;
  let faultDone = false;
  const c = conns.counters;
  const total = o.beforeSec + o.afterSec;
  const progress = new Progress({
    label: `chaos ${o.fault}`,
    totalSeconds: total,
    status: () =>
      `sent ${c.sent} acked ${c.acked} delivered ${c.deliveries} refused ${c.refused} dup ${c.duplicates}${faultAt && !faultDone ? ' [FAULT]' : ''}`,
  }).start();
  // Load runs in the background; the fault is injected after `beforeSec` and the load continues for at least
  // `afterSec` after the fault is over (a service restart can take a while).
  let stop = false;
  const loadDone = sendAtRate(conns, { rate: o.rate, durationSec: 3600, groupShare, stop: () => stop });
  // Steady state first: deliveries flowing (cold starts done), then `beforeSec` more.
  for (let i = 0; i < 600 && c.deliveries === 0; i++) await delay(100);
  await delay(o.beforeSec * 1000);
  faultAt = performance.now();
  const refusedBefore = c.refused;
  try {
    serviceBack = await injectFault(o.fault, rt, actions, faultAt);
  } finally {
    faultDone = true;
  }
  const refusedDuringFault = c.refused - refusedBefore;
  await delay(o.afterSec * 1000);
  stop = true;
  const plan = await loadDone;
  progress.stop();
  log(`chaos ${o.fault}: draining (up to ${o.drainTimeoutSec} s)`);
  const drain = await conns.drain(o.drainTimeoutSec * 1000);
  const history = await verifyHistory(conns, drain.complete);
  const load = summarizeLoad(
    conns,
    {
      rate: o.rate,
      durationSec: plan.sendWindowMs / 1000,
      sendWindowMs: plan.sendWindowMs,
      skipped: plan.skipped,
      backpressured: plan.backpressured,
    },
    drain,
    history,
  );
  let worst: number | null = null;
  const firstDeliveries: number[] = [];
  for (const m of conns.sent) {
    if (m.firstDeliveryAt) firstDeliveries.push(m.firstDeliveryAt);
    if (Math.abs(m.sentAt - faultAt) < 5_000 && m.lastDeliveryAt) {
      worst = Math.max(worst ?? 0, m.lastDeliveryAt - m.sentAt);
    }
  }
  const gap = deliveryGap(firstDeliveries, faultAt);
  // Delivery resumed = end of the longest stretch without any delivery that began after the fault; no such
  // stretch over 1 s means delivery never stopped. Null: nothing was delivered after the fault at all.
  const resumed = gap.resumedAt;
  await conns.closeAll();
  const unreadExact = history.unreadMismatches.length === 0;
  const result: ChaosScenarioResult = {
    fault: o.fault,
    actions,
    faultAtSec: Math.round((faultAt - t0) / 100) / 10,
    serviceBackAfterSec: serviceBack === null ? null : Math.round((serviceBack - faultAt) / 100) / 10,
    deliveryResumedAfterSec: resumed === null ? null : Math.round((resumed - faultAt) / 100) / 10,
    longestDeliveryGapSec: Math.round(gap.gapMs / 100) / 10,
    refusedDuringFault,
    worstLatencyAroundFaultMs: worst === null ? null : Math.round(worst),
    load,
    unreadExact,
    ok:
      load.lost === 0 && load.duplicatedInHistory === 0 && unreadExact && resumed !== null && drain.complete,
    exactlyOnceDelivery: load.duplicatedDeliveries === 0,
  };
  log(
    `chaos ${o.fault}: LOST ${load.lost} DUPLICATED in history ${load.duplicatedInHistory}, deliveries ${load.duplicatedDeliveries}; unread ${unreadExact ? 'exact' : 'WRONG'} ` +
      `delivery resumed after ${result.deliveryResumedAfterSec ?? '—'} s${load.reconnects ? `; ${load.reconnects} reconnects, ${load.filledFromHistory} messages filled from history` : ''} → ${result.ok ? 'OK' : 'FAILED'}`,
  );
  return result;
}

export interface PoisonResult {
  produced: number;
  deadLettered: number;
  /** Every poison record reached the dead-letter topic with a non-empty reason and its source coordinates. */
  allWithReason: boolean;
  reasons: string[];
  /** Live load in the same partitions kept flowing: LOST/DUPLICATED of the load that ran alongside. */
  load: LoadResult;
  /** Worst delivery latency of live messages while the poison records were being processed (ms). */
  worstLiveLatencyMs: number | null;
  deadLetterWaitSec: number;
  ok: boolean;
}

/**
 * Produce poison records straight to the messages topic, keyed by live conversations (so they sit in the same
 * partitions as live traffic), while the load runs; each must land on the dead-letter topic with a reason,
 * and live messages behind them must keep flowing.
 */
export async function runPoison(
  world: World,
  rt: RuntimeHandle,
  o: { connections: number; rate: number; seconds: number; messagesTopic: string; deadLetterTopic: string },
): Promise<PoisonResult> {
  log(`chaos poison-records: ${o.connections} connections at ${o.rate} msg/s`);
  const t = defaultAddresses();
  const kafka = new Kafka({
    clientId: 'bench-chaos',
    brokers: [...t.kafkaBrokers],
    logLevel: logLevel.NOTHING,
  });
  const messagesTopic = o.messagesTopic;
  const dlqTopic = o.deadLetterTopic;
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: `bench-dlq-${randomUUID()}`, maxWaitTimeInMs: 200 });
  const dead: DeadLetterRecord[] = [];
  await Promise.all([producer.connect(), consumer.connect()]);
  const conns = new Connections(world, rt.endpoints);
  try {
    await consumer.subscribe({ topic: dlqTopic, fromBeginning: false });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachMessage: async ({ message }) => {
        try {
          dead.push(JSON.parse(message.value?.toString() ?? 'null') as DeadLetterRecord);
        } catch {
          // a dead-letter record that is not JSON: counted as missing below
        }
      },
    });
    await Promise.race([joined, delay(20_000)]);
    await delay(1_000); // a fresh group starts at the log end once assigned

    await conns.open(o.connections);
    let stop = false;
    const loadDone = sendAtRate(conns, { rate: o.rate, durationSec: 3600, stop: () => stop });
    for (let i = 0; i < 600 && conns.counters.deliveries === 0; i++) await delay(100);
    await delay(2_000);
    const conv = world.conversations[0];
    const sender = world.users[conv?.members[0] ?? 0] as BenchUser;
    const convId = conv?.id ?? 'none';
    const validShape: ChatRecord = {
      type: 'message.sent',
      v: 1,
      message: {
        id: '01ARYZ6S41TSV4RRFFQ69G5FAV',
        conversationId: convId,
        senderId: sender.id,
        clientMsgId: 'poison',
        body: 'x',
        sentAt: new Date().toISOString(),
      },
    };
    const poison: { key: string | null; value: string | Buffer | null; why: string }[] = [
      { key: convId, value: 'not json at all {', why: 'invalid JSON' },
      { key: convId, value: JSON.stringify({ type: 'message.sent', v: 99 }), why: 'unknown version' },
      { key: convId, value: JSON.stringify({ type: 'something.else', v: 1 }), why: 'unknown type' },
      {
        key: convId,
        value: JSON.stringify({ ...validShape, message: { ...validShape.message, id: 'not-a-ulid' } }),
        why: 'bad id',
      },
      {
        key: convId,
        value: JSON.stringify({ ...validShape, message: { ...validShape.message, body: '' } }),
        why: 'empty body',
      },
      { key: convId, value: Buffer.from([0xff, 0xfe, 0x00, 0x01]), why: 'binary garbage' },
      { key: convId, value: null, why: 'null value (tombstone)' },
      { key: convId, value: JSON.stringify([1, 2, 3]), why: 'array' },
    ];
    const produced = await producer.send({
      topic: messagesTopic,
      acks: -1,
      messages: poison.map((p) => ({ key: p.key, value: p.value })),
    });
    log(
      `chaos poison-records: produced ${poison.length} poison records (${produced.map((r) => `p${r.partition}@${r.baseOffset}`).join(', ')})`,
    );
    const poisonAt = performance.now();
    // The records of one send with one key sit in one partition at consecutive offsets.
    const meta = produced[0];
    const first = BigInt(meta?.baseOffset ?? '-1');
    const isOurs = (d: DeadLetterRecord) =>
      d.source.topic === messagesTopic &&
      d.source.partition === meta?.partition &&
      BigInt(d.source.offset) >= first &&
      BigInt(d.source.offset) < first + BigInt(poison.length);
    const tWait = performance.now();
    while (dead.filter(isOurs).length < poison.length && performance.now() - tWait < 60_000) {
      await delay(200);
    }
    const deadLetterWaitSec = Math.round((performance.now() - tWait) / 100) / 10;
    await delay(Math.max(0, o.seconds * 1000 - (performance.now() - poisonAt)));
    stop = true;
    const plan = await loadDone;
    const drain = await conns.drain(60_000);
    const history = await verifyHistory(conns, drain.complete);
    const load = summarizeLoad(
      conns,
      {
        rate: o.rate,
        durationSec: plan.sendWindowMs / 1000,
        sendWindowMs: plan.sendWindowMs,
        skipped: plan.skipped,
        backpressured: plan.backpressured,
      },
      drain,
      history,
    );
    let worst: number | null = null;
    for (const m of conns.sent) {
      if (m.sentAt >= poisonAt - 1000 && m.sentAt <= poisonAt + 10_000 && m.lastDeliveryAt) {
        worst = Math.max(worst ?? 0, m.lastDeliveryAt - m.sentAt);
      }
    }
    const ours = dead.filter(isOurs);
    const allWithReason =
      ours.length >= poison.length && ours.every((d) => typeof d.reason === 'string' && d.reason.length > 0);
    const result: PoisonResult = {
      produced: poison.length,
      deadLettered: ours.length,
      allWithReason,
      reasons: ours.map((d) => d.reason.slice(0, 200)),
      load,
      worstLiveLatencyMs: worst === null ? null : Math.round(worst),
      deadLetterWaitSec,
      ok: allWithReason && load.lost === 0 && load.duplicated === 0 && drain.complete,
    };
    log(
      `chaos poison-records: ${ours.length}/${poison.length} dead-lettered in ${deadLetterWaitSec} s; live LOST ${load.lost} DUPLICATED ${load.duplicated} → ${result.ok ? 'OK' : 'FAILED'}`,
    );
    return result;
  } finally {
    await conns.closeAll();
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
  }
}

export type { Api };
