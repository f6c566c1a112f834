/**
 * Local Redis is a cluster, like ElastiCache Serverless: it refuses what AWS refuses (a multi-key command or a
 * transaction over two hash slots: CROSSSLOT) and accepts hash-tagged keys. The shared instance (the vitest
 * global setup brought it up) is only read and written with unique keys; restarts and misconfigurations are
 * tried on private instances (own state folder, own port).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  defaultAddresses,
  type ManagerOptions,
  memoryReporter,
  servicesDown,
  servicesStatus,
  servicesUp,
} from './index.ts';
import { freePort, isAlive, tcpOpen, which } from './support.ts';

const id = randomUUID().slice(0, 8);
const url = defaultAddresses().redisUrl;
const { hostname: host, port } = new URL(url);
const stateRoot = mkdtempSync(path.join(os.tmpdir(), 'chat-redis-cluster-'));
const cleanups: (() => Promise<unknown> | unknown)[] = [];

afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
  rmSync(stateRoot, { recursive: true, force: true });
});

/** A plain connection to the node: the server, not the client library, decides. */
function node(u: string = url): Redis {
  const r = new Redis(u, { maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  cleanups.push(() => r.quit());
  return r;
}

const keyslot = async (r: Redis, key: string) => Number(await r.call('CLUSTER', 'KEYSLOT', key));

describe('the shared local Redis is a cluster', () => {
  const r = node();
  const [a, b] = [`rc:{${id}-a}:x`, `rc:{${id}-b}:y`];
  const [t1, t2] = [`rc:{${id}}:1`, `rc:{${id}}:2`];

  it('is in cluster mode, one node owning all 16,384 slots', async () => {
    const info = String(await r.call('CLUSTER', 'INFO'));
    expect(info).toMatch(/^cluster_state:ok\r?$/m);
    expect(info).toMatch(/^cluster_slots_assigned:16384\r?$/m);
    const [redis] = await servicesStatus({ services: ['redis'], report: memoryReporter() });
    expect(redis?.detail).toContain('cluster mode');
  });

  it('refuses a MULTI over two slots (CROSSSLOT), as ElastiCache does', async () => {
    expect(await keyslot(r, a)).not.toBe(await keyslot(r, b));
    await expect(r.multi().set(a, '1', 'EX', 60).set(b, '2', 'EX', 60).exec()).rejects.toThrow(/CROSSSLOT/);
    expect(await r.exists(a, a)).toBe(0);
  });

  it('refuses an MGET over two slots (CROSSSLOT)', async () => {
    await expect(r.mget(a, b)).rejects.toThrow(/CROSSSLOT/);
  });

  it('refuses the login rate limit as it was (one MULTI over the username and the IP budget)', async () => {
    const [user, ip] = [`rl:login:u:${id}user`, `rl:login:ip:${id}ip`];
    expect(await keyslot(r, user)).not.toBe(await keyslot(r, ip));
    await expect(r.multi().incr(user).incr(ip).exec()).rejects.toThrow(/CROSSSLOT/);
  });

  it('accepts a MULTI, an MGET and a script over keys of one hash tag', async () => {
    expect(await keyslot(r, t1)).toBe(await keyslot(r, t2));
    const res = await r.multi().set(t1, 'one', 'EX', 60).set(t2, 'two', 'EX', 60).exec();
    expect(res?.map(([err]) => err)).toEqual([null, null]);
    expect(await r.mget(t1, t2)).toEqual(['one', 'two']);
    expect(await r.eval("return redis.call('GET', KEYS[1]) .. redis.call('GET', KEYS[2])", 2, t1, t2)).toBe(
      'onetwo',
    );
    await r.del(t1, t2);
  });

  it('the cluster client (what the functions use) meets the same refusal', async () => {
    const c = new Cluster([{ host, port: Number(port || 6379) }], { clusterRetryStrategy: () => null });
    cleanups.push(() => c.quit());
    await expect(c.multi().incr(a).incr(b).exec()).rejects.toThrow(/CROSSSLOT/);
    await expect(c.mget(a, b)).rejects.toThrow(/CROSSSLOT/);
    expect(await c.mget(t1, t2)).toEqual([null, null]);
  });
});

describe('native cluster instances of the manager', () => {
  it('keep their slots and data over kill -9 (nodes.conf, appendonly)', async () => {
    const p = await freePort();
    const opts: ManagerOptions = {
      stateDir: path.join(stateRoot, 'restart'),
      services: ['redis'],
      mode: 'native',
      applySchema: false,
      addresses: { redisUrl: `redis://127.0.0.1:${p}` },
      report: memoryReporter(),
    };
    cleanups.push(() => servicesDown(opts));
    const [first] = (await servicesUp(opts)).services;
    expect(first?.detail).toContain('16384/16384 slots, cluster_state:ok');
    const before = node(`redis://127.0.0.1:${p}`);
    await before.set(`conn:{${id}}`, 'alive');
    await delay(1_500); // appendfsync everysec
    process.kill(first?.pid as number, 'SIGKILL');
    for (const deadline = Date.now() + 10_000; isAlive(first?.pid as number) && Date.now() < deadline; )
      await delay(50);

    const [again] = (await servicesUp(opts)).services;
    expect(again?.pid).not.toBe(first?.pid);
    expect(again?.detail).toContain('16384/16384 slots, cluster_state:ok');
    expect(await node(`redis://127.0.0.1:${p}`).get(`conn:{${id}}`)).toBe('alive');
  }, 60_000);

  it('refuses a standalone Redis it did not start, and restarts its own standalone one in cluster mode', async () => {
    const bin = which('redis-server');
    expect(bin, 'redis-server on PATH').toBeTruthy();
    const p = await freePort();
    const standalone: ChildProcess = spawn(
      bin as string,
      ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    cleanups.push(() => standalone.kill('SIGKILL'));
    for (const deadline = Date.now() + 10_000; !(await tcpOpen('127.0.0.1', p, 200)); ) {
      if (Date.now() > deadline) throw new Error('standalone redis-server did not start');
      await delay(100);
    }
    const base: ManagerOptions = {
      services: ['redis'],
      mode: 'native',
      applySchema: false,
      addresses: { redisUrl: `redis://127.0.0.1:${p}` },
      report: memoryReporter(),
    };

    await expect(servicesUp({ ...base, stateDir: path.join(stateRoot, 'foreign') })).rejects.toThrow(
      /NOT in cluster mode \(cluster_enabled:0\)/,
    );
    expect(isAlive(standalone.pid as number)).toBe(true);

    // The same process recorded as one this manager started (what a clone has after pulling this change).
    const ours = { ...base, stateDir: path.join(stateRoot, 'ours') };
    cleanups.push(() => servicesDown(ours));
    mkdirSync(path.join(ours.stateDir as string, 'run'), { recursive: true });
    writeFileSync(
      path.join(ours.stateDir as string, 'run', 'redis.json'),
      JSON.stringify({
        mode: 'native',
        pid: standalone.pid,
        version: '7',
        address: `127.0.0.1:${p}`,
        startedAt: new Date().toISOString(),
      }),
    );
    const [up] = (await servicesUp(ours)).services;
    expect(up?.mode).toBe('native');
    expect(up?.pid).not.toBe(standalone.pid);
    expect(up?.detail).toContain('cluster_state:ok');
    expect(isAlive(standalone.pid as number)).toBe(false);
  }, 60_000);
});
