/**
 * Redis: Debian's redis-server (installed with apt when missing and we are root), run in the foreground with our
 * own arguments: loopback only, no persistence, working dir under the state folder.
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
    const client = new Redis(a.redisUrl, {
      lazyConnect: true,
      connectTimeout: 1500,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: false,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      const pong = await client.ping();
      const info = await client.info('server');
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
      return { ok: pong === 'PONG', detail: `PING ok, redis ${version}` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
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
    const args = [
      '--port',
      String(port),
      '--bind',
      host === 'localhost' ? '127.0.0.1' : host,
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'no',
      '--logfile',
      '',
    ];
    return spawnDetached(bin, args, logFile(ctx, 'redis'), { cwd: dir });
  },
};
