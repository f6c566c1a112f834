/**
 * Store work per message, counted by the stores themselves: Cassandra's coordinator reads and writes per table
 * (the `system_views` virtual tables, chat keyspace only) and Redis's calls per command (`INFO commandstats`),
 * read before and after a load phase's measured window and divided by the acked messages.
 *
 * Unlike CPU and latency these are counts, not times: they do not move with the machine's load, so a change
 * in them between two runs is a change in the code (or another client of the same services during the window:
 * the services are shared, so run it on a machine where nothing else uses them). A batch of statements counts
 * once per table it writes (Cassandra counts mutations per table, not requests); requests are counted apart,
 * from each client connection's `request_count` (`system_views.clients`): the difference per connection, so
 * a connection opened during the window counts from zero, and one closed during it is missed (an environment
 * reclaimed mid-window; rare while the load runs). The census's own connection is left out.
 */
import type { Addresses } from '@chat/local/services';
import cassandra from 'cassandra-driver';
import { Redis } from 'ioredis';

export interface CensusSnapshot {
  /** `reads:<table>` / `writes:<table>` → coordinator operations so far. */
  readonly cql: Readonly<Record<string, number>>;
  /** `address:port` of each client connection → its requests so far (absent in older snapshots). */
  readonly cqlRequests?: Readonly<Record<string, number>>;
  /** command → calls so far. */
  readonly redis: Readonly<Record<string, number>>;
}

export interface StoreWorkPerMessage {
  readonly acked: number;
  readonly cqlReads: number;
  readonly cqlWrites: number;
  /** CQL requests (a batch is one) per message; absent when the snapshots have none. */
  readonly cqlRequests?: number;
  /** Per table: reads and writes per message (tables with none left out). */
  readonly cqlByTable: Readonly<Record<string, { reads: number; writes: number }>>;
  readonly redisCommands: number;
  /** Per command, calls per message (largest first; cluster bookkeeping such as `cluster|slots` included). */
  readonly redisByCommand: Readonly<Record<string, number>>;
}

/** The stores' addresses (the local services manager's, like the raw baselines'). */
export type CensusTarget = Pick<
  Addresses,
  'redisUrl' | 'cqlContactPoints' | 'cqlPort' | 'cqlLocalDc' | 'cqlKeyspace'
>;

const OPS = [
  ['reads', 'coordinator_read_latency'],
  ['writes', 'coordinator_write_latency'],
] as const;

/** The census's own driver name in Cassandra's client list (STARTUP's APPLICATION_NAME), so it is left out. */
const CENSUS_APPLICATION = 'chat-bench-census';

async function cqlCounts(
  t: CensusTarget,
): Promise<{ cql: Record<string, number>; cqlRequests: Record<string, number> }> {
  const client = new cassandra.Client({
    contactPoints: [...t.cqlContactPoints],
    protocolOptions: { port: t.cqlPort },
    localDataCenter: t.cqlLocalDc,
    applicationName: CENSUS_APPLICATION,
  });
  try {
    const cql: Record<string, number> = {};
    for (const [kind, view] of OPS) {
      const rs = await client.execute(
        `SELECT table_name, count FROM system_views.${view} WHERE keyspace_name = ?`,
        [t.cqlKeyspace],
      );
      for (const row of rs.rows) cql[`${kind}:${row.table_name}`] = Number(row.count);
    }
    const cqlRequests: Record<string, number> = {};
    const clients = await client.execute(
      'SELECT address, port, client_options, request_count FROM system_views.clients',
    );
    for (const row of clients.rows) {
      const options = (row.client_options ?? {}) as Record<string, string>;
      if (options.APPLICATION_NAME === CENSUS_APPLICATION) continue;
      cqlRequests[`${String(row.address)}:${row.port}`] = Number(row.request_count);
    }
    return { cql, cqlRequests };
  } finally {
    await client.shutdown();
  }
}

/** `cmdstat_get:calls=12,usec=…` lines → { get: 12 }. */
export function parseCommandStats(info: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of info.split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m?.[1] && m[2]) out[m[1]] = Number(m[2]);
  }
  return out;
}

async function redisCounts(t: CensusTarget): Promise<Record<string, number>> {
  // One node answers for the whole (one-node) cluster: a standalone connection is enough for INFO.
  const redis = new Redis(t.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return parseCommandStats(await redis.info('commandstats'));
  } finally {
    redis.disconnect();
  }
}

/** Both stores' counters now; null when a store cannot be read (the figure is then left out, never guessed). */
export async function takeCensus(t: CensusTarget): Promise<CensusSnapshot | null> {
  try {
    const [cql, redis] = await Promise.all([cqlCounts(t), redisCounts(t)]);
    return { ...cql, redis };
  } catch {
    return null;
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

/** The difference of two snapshots per acked message. The census's own INFO call is not counted. */
export function storeWorkPerMessage(
  before: CensusSnapshot,
  after: CensusSnapshot,
  acked: number,
): StoreWorkPerMessage | null {
  if (acked <= 0) return null;
  const byTable: Record<string, { reads: number; writes: number }> = {};
  let reads = 0;
  let writes = 0;
  for (const [key, n] of Object.entries(after.cql)) {
    const d = n - (before.cql[key] ?? 0);
    if (d <= 0) continue;
    const [kind, table] = key.split(':') as ['reads' | 'writes', string];
    const entry = byTable[table] ?? { reads: 0, writes: 0 };
    entry[kind] += d;
    byTable[table] = entry;
    if (kind === 'reads') reads += d;
    else writes += d;
  }
  let requests: number | undefined;
  if (before.cqlRequests && after.cqlRequests) {
    requests = 0;
    for (const [conn, n] of Object.entries(after.cqlRequests))
      requests += Math.max(0, n - (before.cqlRequests[conn] ?? 0));
  }
  const redisDiff: [string, number][] = [];
  let commands = 0;
  for (const [cmd, n] of Object.entries(after.redis)) {
    const d = n - (before.redis[cmd] ?? 0) - (cmd === 'info' ? 1 : 0);
    if (d <= 0) continue;
    redisDiff.push([cmd, d]);
    commands += d;
  }
  redisDiff.sort((a, b) => b[1] - a[1]);
  return {
    acked,
    cqlReads: round(reads / acked),
    cqlWrites: round(writes / acked),
    ...(requests !== undefined ? { cqlRequests: round(requests / acked) } : {}),
    cqlByTable: Object.fromEntries(
      Object.entries(byTable)
        .sort((a, b) => b[1].reads + b[1].writes - (a[1].reads + a[1].writes))
        .map(([table, v]) => [table, { reads: round(v.reads / acked), writes: round(v.writes / acked) }]),
    ),
    redisCommands: round(commands / acked),
    redisByCommand: Object.fromEntries(redisDiff.map(([cmd, d]) => [cmd, round(d / acked)])),
  };
}

/** One line for the summary: `CQL 2.31 reads + 4.30 writes · Redis 5.12 commands (evalsha 2.0, …)`. */
export function formatStoreWork(w: StoreWorkPerMessage): string {
  const top = Object.entries(w.redisByCommand)
    .slice(0, 4)
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
  const tables = Object.entries(w.cqlByTable)
    .slice(0, 6)
    .map(([t, v]) => `${t} ${v.reads}r/${v.writes}w`)
    .join(', ');
  const requests = w.cqlRequests !== undefined ? ` in ${w.cqlRequests} requests` : '';
  return (
    `CQL ${w.cqlReads} reads + ${w.cqlWrites} writes${requests} (${tables}) · ` +
    `Redis ${w.redisCommands} commands (${top})`
  );
}
