/**
 * The local runtime's own cost per invocation, without any I/O: a no-op handler (bench/src/baselines) invoked
 * N times in a row (one at a time, then 4 at once) through the runtime's Lambda service, with a WebSocket
 * MESSAGE event of the real shape. Prints CPU µs per invocation of the environment's thread (its own /proc
 * reading, exact in sums) and of the runtime's main thread (this process's main thread, from /proc). CPU time
 * rather than wall time: it is what the shared machine's load disturbs least. A/B tool for emulator changes.
 *
 *   npx tsx bench/src/tools/invoke-cost.ts [N=3000]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalRuntime } from '@chat/local/runtime';

const here = path.dirname(fileURLToPath(import.meta.url));
const n = Number(process.argv[2] ?? 3000);
const mainCpuMs = (): number => {
  const s = readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
const event = JSON.parse(
  readFileSync(path.join(here, '../../../local/runtime/fixtures/ws-message.json'), 'utf8'),
) as unknown;

const rt = await startLocalRuntime({
  wsPort: 0,
  httpPort: 0,
  host: '127.0.0.1',
  kafka: false,
  schedules: false,
  functions: [],
  routeTable: { functionDefs: {}, wsRoutes: [], httpRoutes: [], kafkaConsumers: [], schedules: [] },
  log: 'silent',
  functionOverrides: {
    noop: { entry: path.join(here, '../baselines/noop-handler.ts'), maxConcurrency: 4 },
  },
});
try {
  for (let i = 0; i < 500; i++) await rt.invoke('noop', event); // warm the JIT of both sides
  for (const parallel of [1, 4]) {
    const before = rt.metrics().noop?.cpuMs ?? 0;
    const m0 = mainCpuMs();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        for (let i = 0; i < n / parallel; i++) {
          const r = await rt.invoke('noop', event);
          if (!r.ok) throw new Error(r.error.errorMessage);
        }
      }),
    );
    const wall = performance.now() - t0;
    const env = (rt.metrics().noop?.cpuMs ?? 0) - before;
    const main = mainCpuMs() - m0;
    console.log(
      `${parallel} at once: environment ${((env / n) * 1000).toFixed(0)} µs, main thread ${((main / n) * 1000).toFixed(0)} µs CPU per invocation; wall ${((wall / n) * 1000).toFixed(0)} µs`,
    );
  }
} finally {
  await rt.stop();
}
