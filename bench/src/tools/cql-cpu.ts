/**
 * Cassandra's CPU per operation under a fixed, persist-like load: for each "message", one unlogged batch of a
 * message row and its client_messages row, one read of a conversation row and one batch of a state update and a
 * read pointer (the shapes of persist's four requests), at `--rate` messages per second for `--seconds`, after
 * `--warmup` seconds of the same. Reads the CQL server's process CPU from /proc (Linux) before and after, and
 * prints the JVM's CPU per message. For A/B runs of the local Cassandra's settings (JVM flags, cassandra.yaml).
 *
 *   npx tsx bench/src/tools/cql-cpu.ts [--rate 300] [--seconds 60] [--warmup 30]
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { defaultAddresses } from '@chat/local/services';
import cassandra from 'cassandra-driver';
import { pidListeningOn, readStat } from '../procs.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '300' },
    seconds: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '30' },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);

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
const conv = `01M8N0CQLCPU${randomUUID().slice(0, 14).toUpperCase()}`;
const sender = `01M8N0SENDER${randomUUID().slice(0, 14).toUpperCase()}`;
let seq = 0;

async function oneMessage(): Promise<void> {
  const id = `01M8N0${randomUUID().replace(/-/g, '').slice(0, 20).toUpperCase()}`;
  const cmid = randomUUID();
  seq++;
  await client.execute('SELECT last_seq FROM conversations WHERE conversation_id = ?', [conv], {
    prepare: true,
    consistency: localOne,
  });
  await client.execute(
    'SELECT message_id FROM client_messages WHERE conversation_id = ? AND sender_id = ? AND client_msg_id = ?',
    [conv, sender, cmid],
    { prepare: true, consistency: localOne },
  );
  await client.batch(
    [
      {
        query:
          'INSERT INTO messages (conversation_id, bucket, message_id, sender_id, client_msg_id, body, sent_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        params: [conv, '202611', id, sender, cmid, 'x'.repeat(80), new Date(), seq],
      },
      {
        query:
          'INSERT INTO client_messages (conversation_id, sender_id, client_msg_id, message_id) VALUES (?, ?, ?, ?)',
        params: [conv, sender, cmid, id],
      },
    ],
    { prepare: true, logged: false, consistency: localQuorum },
  );
  await client.batch(
    [
      {
        query: 'UPDATE conversations SET last_seq = ?, last_message_id = ? WHERE conversation_id = ?',
        params: [seq, id, conv],
      },
      {
        query:
          'UPDATE read_pointers SET last_read_id = ?, last_read_seq = ? WHERE conversation_id = ? AND user_id = ?',
        params: [id, seq, conv, sender],
      },
    ],
    { prepare: true, logged: false, consistency: localQuorum },
  );
}

async function load(sec: number): Promise<number> {
  const interval = 1000 / rate;
  const start = performance.now();
  const inflight = new Set<Promise<void>>();
  let sent = 0;
  while (performance.now() - start < sec * 1000) {
    const due = Math.floor((performance.now() - start) / interval);
    while (sent < due) {
      const p = oneMessage().finally(() => inflight.delete(p));
      inflight.add(p);
      sent++;
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
  const before = cpuMs(pid);
  const t0 = performance.now();
  const sent = await load(seconds);
  const wall = performance.now() - t0;
  const used = cpuMs(pid) - before;
  console.log(
    JSON.stringify({
      rate,
      messages: sent,
      cassandraCpuMsPerMessage: Math.round((used / sent) * 1000) / 1000,
      cassandraCores: Math.round((used / wall) * 100) / 100,
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
