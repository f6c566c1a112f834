/**
 * Redis: Debian's redis-server (installed with apt when missing and we are root), run in the foreground with our
 * own arguments: loopback only, working dir under the state folder, in CLUSTER mode like ElastiCache Serverless.
 *
 * One node owning all 16,384 slots (`CLUSTER ADDSLOTSRANGE 0 16383` on first start; nodes.conf in the data dir
 * keeps it across restarts). One node is enough to be refused what AWS refuses: a multi-key command, MULTI or
 * script spanning two hash slots fails with CROSSSLOT on any cluster-mode server, whatever the node count; three
 * masters would add MOVED redirections (which ioredis handles) at three times the processes. `appendonly yes`:
 * a restart keeps the connection registry, as a replicated cache would.
 *
 * A Redis answering at the address that is not in cluster mode is refused with a clear message (probe: not
 * healthy, `misconfigured`); the manager restarts its own native instance in cluster mode.
 */
import path from 'node:path';
import { Redis } from 'ioredis';
import { aptInstall, ensureDir, run, spawnDetached, which } from './support.ts';
import {
  type Addresses,
  type Context,
  type Driver,
  dataDir,
  type Health,
  logFile,
  logsDir,
} from './types.ts';

const SLOTS = 16384;

/** A `field:value` line of INFO / CLUSTER INFO. */
const field = (text: string, name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(text)?.[1];

/** A plain (non-cluster) connection to the one node at the address: INFO and CLUSTER commands are per node. */
function probeClient(a: Addresses): Redis {
  const client = new Redis(a.redisUrl, {
    lazyConnect: true,
    connectTimeout: 1500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  return client;
}

function redisHostPort(a: Addresses) {
  const u = new URL(a.redisUrl);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) };
}

async function ensureRedisServer(ctx: Context): Promise<string> {
  const found = which('redis-server');
  if (found) return found;
  const aptLog = path.join(logsDir(ctx), 'apt.log');
  ctx.report.begin(
    'redis',
    `redis-server not on PATH: installing Debian package redis-server (log: ${aptLog})`,
  );
  if ((await aptInstall(['redis-server'], aptLog)) && which('redis-server'))
    return which('redis-server') as string;
  throw new Error(
    'redis-server is not installed and could not be installed automatically (needs root and apt-get). ' +
      'Install it (Debian/Ubuntu: `sudo apt-get install redis-server`, macOS: `brew install redis`) or set ' +
      'REDIS_URL to a running Redis.',
  );
}

export const redisDriver: Driver = {
  name: 'redis',
  composeService: 'redis',
  processMarker: 'redis-server',
  startTimeoutMs: 30_000,
  address: (a) => {
    const { host, port } = redisHostPort(a);
    return `${host}:${port}`;
  },
  hostPort: redisHostPort,

  async probe(a): Promise<Health> {
    const client = probeClient(a);
    try {
      await client.connect();
      const pong = await client.ping();
      const info = await client.info();
      const version = field(info, 'redis_version') ?? '?';
      if (field(info, 'cluster_enabled') !== '1')
        return {
          ok: false,
          misconfigured: true,
          detail:
            `Redis ${version} answers at ${a.redisUrl} but is NOT in cluster mode (cluster_enabled:0). The ` +
            'functions use the cluster client, as on ElastiCache Serverless: stop that Redis (or point REDIS_URL ' +
            'at a cluster-mode one) and run `npm run services -- up` to start a one-node cluster',
        };
      const cluster = String(await client.call('CLUSTER', 'INFO'));
      const state = field(cluster, 'cluster_state') ?? '?';
      const slots = Number(field(cluster, 'cluster_slots_assigned') ?? 0);
      const nodes = Number(field(cluster, 'cluster_known_nodes') ?? 0);
      return {
        ok: pong === 'PONG' && state === 'ok' && slots === SLOTS,
        detail: `PING ok, redis ${version}, cluster mode (${nodes} node${nodes === 1 ? '' : 's'}, ${slots}/${SLOTS} slots, cluster_state:${state})`,
      };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    } finally {
      client.disconnect();
    }
  },

  async settle(a) {
    // A fresh node of ours (one known node, no slots yet): give it every slot. A restarted one has them in its
    // nodes.conf; a node that knows others (someone else's cluster) is left alone.
    const client = probeClient(a);
    try {
      await client.connect();
      const cluster = String(await client.call('CLUSTER', 'INFO'));
      if (field(cluster, 'cluster_known_nodes') === '1' && field(cluster, 'cluster_slots_assigned') === '0')
        await client.call('CLUSTER', 'ADDSLOTSRANGE', '0', String(SLOTS - 1));
    } finally {
      client.disconnect();
    }
  },

  async prepare(ctx) {
    const bin = await ensureRedisServer(ctx);
    const v = await run(bin, ['--version'], { timeoutMs: 5000 });
    return /v=(\S+)/.exec(v.stdout)?.[1] ?? 'unknown';
  },

  async start(ctx) {
    const bin = which('redis-server') as string;
    const { host, port } = redisHostPort(ctx.addresses);
    const dir = ensureDir(dataDir(ctx, 'redis'));
    const bindHost = host === 'localhost' ? '127.0.0.1' : host;
    const args = [
      '--port',
      String(port),
      '--bind',
      bindHost,
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--save',
      '',
      '--appendonly',
      'yes',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      path.join(dir, 'nodes.conf'),
      // CLUSTER SLOTS answers with this address (a lone node does not know its own otherwise).
      '--cluster-announce-ip',
      bindHost,
      '--protected-mode',
      'no',
      '--logfile',
      '',
    ];
    return spawnDetached(bin, args, logFile(ctx, 'redis'), { cwd: dir });
  },
};
