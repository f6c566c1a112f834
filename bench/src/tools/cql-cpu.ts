/**
 * Cassandra's CPU per operation under a fixed, persist-like load, for A/B runs of the local Cassandra's settings
 * (JVM flags, cassandra.yaml, the timer slack) and of request shapes. Each "message" is, by `--shape`:
 * - `persist` (default): persist's four requests: a read of the conversation row, a read of a client_messages
 *   row, one unlogged batch of the message row and its client_messages row, one batch of the state update and
 *   the sender's read pointer;
 * - `insert`: the least a message can cost: one INSERT of its row.
 * `--group N` (persist only) serves N messages of N conversations together, as a cross-conversation persist
 * would: one `IN` read of their states, their N client_messages reads, one batch of their rows and one of their
 * states. Messages go round-robin over 64 conversations, at `--rate` messages per second for `--seconds`, after
 * `--warmup` seconds of the same. Reads the CQL server's process CPU from /proc (Linux) before and after and
 * prints the JVM's CPU per message and each message's round trip (p50, p99: the requests in sequence).
 *
 *   npx tsx bench/src/tools/cql-cpu.ts [--rate 300] [--seconds 60] [--warmup 30] [--shape persist|insert] [--group 1]
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { numberFlag, parseCommandLine, type UsageFailure, usageFailure } from '@chat/kit/cli';
import { defaultAddresses } from '@chat/local/services';
import cassandra from 'cassandra-driver';
import { pidListeningOn, readStat } from '../procs.ts';
import { percentile } from '../stats.ts';

const fail: UsageFailure = usageFailure(
  'cql-cpu',
  `usage: npx tsx bench/src/tools/cql-cpu.ts [--rate 300] [--seconds 60] [--warmup 30] [--shape persist|insert] [--group 1]
  --rate     messages per second (default 300)
  --seconds  the measured window (default 60)
  --warmup   seconds of the same load before it (default 30; 0: none)
  --shape    persist (persist's four requests, default) or insert (one INSERT of the message row)
  --group    messages of that many conversations served together (persist only; default 1)`,
);
const { values } = parseCommandLine(
  {
    args: process.argv.slice(2),
    options: {
      rate: { type: 'string', default: '300' },
      seconds: { type: 'string', default: '60' },
      warmup: { type: 'string', default: '30' },
      shape: { type: 'string', default: 'persist' },
      group: { type: 'string', default: '1' },
    },
  },
  fail,
);
const rate = numberFlag(values.rate, '--rate', fail);
const seconds = numberFlag(values.seconds, '--seconds', fail);
const warmup = numberFlag(values.warmup, '--warmup', fail, { inclusive: true });
const shape = values.shape;
const group = numberFlag(values.group, '--group', fail, { integer: true });
if (shape !== 'persist' && shape !== 'insert') fail(`--shape persist|insert, got '${shape}'`);
if (group > 1 && shape !== 'persist') fail('--group applies to --shape persist only');

// the local services' addresses, as the bench's (CQL_CONTACT_POINTS, CQL_PORT, … override them)
const addresses = defaultAddresses();
const cpuMs = (pid: number): number => {
  const stat = readStat(pid);
  if (!stat) throw new Error(`process ${pid} is gone`);
  return stat.cpuSeconds * 1000;
};

const client = new cassandra.Client({
  contactPoints: addresses.cqlContactPoints.map((h) => `${h}:${addresses.cqlPort}`),
  localDataCenter: addresses.cqlLocalDc,
  keyspace: addresses.cqlKeyspace,
});
const { localQuorum, localOne } = cassandra.types.consistencies;
const run = randomUUID().slice(0, 12).toUpperCase();
const conversations = Array.from({ length: 64 }, (_, i) => `01M8N0CQLCPU${String(i).padStart(2, '0')}${run}`);
const sender = `01M8N0SENDER${randomUUID().slice(0, 14).toUpperCase()}`;
let seq = 0;

interface Item {
  conv: string;
  id: string;
  cmid: string;
  seq: number;
}
const nextItem = (): Item => {
  seq++;
  return {
    conv: conversations[seq % conversations.length] as string,
    id: `01M8N0${randomUUID().replace(/-/g, '').slice(0, 20).toUpperCase()}`,
    cmid: randomUUID(),
    seq,
  };
};

const INSERT_MESSAGE =
  'INSERT INTO messages (conversation_id, bucket, message_id, sender_id, client_msg_id, body, sent_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';
const messageParams = (i: Item) => [
  i.conv,
  '202611',
  i.id,
  sender,
  i.cmid,
  'x'.repeat(80),
  new Date(),
  i.seq,
];

/** `group` messages of `group` conversations, in persist's requests (one conversation: persist's own four). */
async function persistShape(items: readonly Item[]): Promise<void> {
  const read = { prepare: true, consistency: localOne };
  const write = { prepare: true, logged: false, consistency: localQuorum };
  await Promise.all([
    items.length === 1
      ? client.execute('SELECT last_seq FROM conversations WHERE conversation_id = ?', [items[0]?.conv], read)
      : client.execute(
          'SELECT last_seq FROM conversations WHERE conversation_id IN ?',
          [items.map((i) => i.conv)],
          read,
        ),
    ...items.map((i) =>
      client.execute(
        'SELECT message_id FROM client_messages WHERE conversation_id = ? AND sender_id = ? AND client_msg_id = ?',
        [i.conv, sender, i.cmid],
        read,
      ),
    ),
  ]);
  await client.batch(
    items.flatMap((i) => [
      { query: INSERT_MESSAGE, params: messageParams(i) },
      {
        query:
          'INSERT INTO client_messages (conversation_id, sender_id, client_msg_id, message_id) VALUES (?, ?, ?, ?)',
        params: [i.conv, sender, i.cmid, i.id],
      },
    ]),
    write,
  );
  await client.batch(
    items.flatMap((i) => [
      {
        query: 'UPDATE conversations SET last_seq = ?, last_message_id = ? WHERE conversation_id = ?',
        params: [i.seq, i.id, i.conv],
      },
      {
        query:
          'UPDATE read_pointers SET last_read_id = ?, last_read_seq = ? WHERE conversation_id = ? AND user_id = ?',
        params: [i.id, i.seq, i.conv, sender],
      },
    ]),
    write,
  );
}

async function oneUnit(): Promise<void> {
  if (shape === 'insert') {
    await client.execute(INSERT_MESSAGE, messageParams(nextItem()), {
      prepare: true,
      consistency: localQuorum,
    });
    return;
  }
  await persistShape(Array.from({ length: group }, nextItem));
}

/** Round trips (ms) of the units of the current window. */
const roundTrips: number[] = [];

async function load(sec: number): Promise<number> {
  const interval = 1000 / rate;
  const start = performance.now();
  const inflight = new Set<Promise<void>>();
  let sent = 0;
  while (performance.now() - start < sec * 1000) {
    const due = Math.floor((performance.now() - start) / interval);
    while (sent + group <= due) {
      const t0 = performance.now();
      const p = oneUnit().finally(() => {
        inflight.delete(p);
        roundTrips.push(performance.now() - t0);
      });
      inflight.add(p);
      sent += group;
    }
    await delay(2);
  }
  await Promise.all(inflight);
  return sent;
}

async function main(): Promise<void> {
  await client.connect();
  const pid = pidListeningOn(addresses.cqlPort);
  if (pid === null) throw new Error(`nothing listens on ${addresses.cqlPort}`);
  await load(warmup);
  roundTrips.length = 0;
  const before = cpuMs(pid);
  const t0 = performance.now();
  const sent = await load(seconds);
  const wall = performance.now() - t0;
  const used = cpuMs(pid) - before;
  const r2 = (v: number) => Math.round(v * 100) / 100;
  console.log(
    JSON.stringify({
      rate,
      shape,
      group,
      messages: sent,
      cassandraCpuMsPerMessage: Math.round((used / sent) * 1000) / 1000,
      cassandraCores: r2(used / wall),
      roundTripP50Ms: r2(percentile(roundTrips, 50)),
      roundTripP99Ms: r2(percentile(roundTrips, 99)),
      loadAverage: loadavg()[0],
    }),
  );
  await client.shutdown();
}
main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
