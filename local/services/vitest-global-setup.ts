/**
 * Vitest global setup: brings up Redis, Kafka and Cassandra if they are not answering yet (installing or
 * downloading them on first use), applies the CQL migrations and the Kafka topics, and leaves everything running
 * for the next run. Exports the service addresses to the test workers through process.env.
 */
import { ensureServices } from './manager.ts';

export default async function setup(): Promise<void> {
  const t0 = Date.now();
  const { env } = await ensureServices();
  for (const [k, v] of Object.entries(env)) process.env[k] ??= v;
  console.log(`services ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}
