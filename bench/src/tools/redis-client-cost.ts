/**
 * CPU per Redis command of the ioredis clients the platform could use, against the local Redis (one-node
 * cluster): the Cluster client (what every execution environment uses, so that a cross-slot command fails
 * locally as on ElastiCache) and a standalone client, each with and without auto-pipelining; 10 concurrent
 * chains of GETs, as handlers issue them. CPU time (process.cpuUsage), not wall time: the machine is shared.
 *
 *   npx tsx bench/src/tools/redis-client-cost.ts [commands=20000] [redis://127.0.0.1:6379]
 */
import { Cluster, Redis } from 'ioredis';

const n = Number(process.argv[2] ?? 20_000);
const url = new URL(process.argv[3] ?? 'redis://127.0.0.1:6379');
const node = { host: url.hostname, port: Number(url.port || 6379) };
const key = '{bench:redis-client-cost}k';

async function measure(name: string, c: Cluster | Redis): Promise<void> {
  await c.set(key, '1');
  for (let i = 0; i < 2_000; i++) await c.get(key); // JIT warm-up
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      for (let i = 0; i < n / 10; i++) await c.get(key);
    }),
  );
  const u = process.cpuUsage(u0);
  const wall = performance.now() - t0;
  console.log(
    `${name.padEnd(32)} ${((u.user + u.system) / n).toFixed(1).padStart(6)} µs CPU per command (wall ${((wall * 1000) / n).toFixed(1)} µs)`,
  );
  await c.del(key);
  c.disconnect();
}

for (let round = 1; round <= 2; round++) {
  await measure('Cluster, auto-pipelining', new Cluster([node], { enableAutoPipelining: true }));
  await measure('Cluster', new Cluster([node]));
  await measure('standalone, auto-pipelining', new Redis({ ...node, enableAutoPipelining: true }));
  await measure('standalone', new Redis(node));
}
