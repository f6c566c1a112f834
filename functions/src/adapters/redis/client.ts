import { Redis } from 'ioredis';
import { config } from '#platform/config.ts';

let client: Redis | undefined;

/**
 * One Redis client per execution environment, created on first use. `rediss://` URLs (ElastiCache Serverless)
 * get TLS. Commands fail fast while disconnected instead of queueing forever, so an outage surfaces as an
 * error the handler can map (and the Kafka batch can retry).
 */
export function redis(): Redis {
  if (!client) {
    const url = config.redisUrl();
    client = new Redis(url, {
      lazyConnect: false,
      enableAutoPipelining: true,
      maxRetriesPerRequest: 2,
      connectTimeout: 5_000,
      enableOfflineQueue: true,
      retryStrategy: (times) => Math.min(times * 100, 2_000),
      ...(url.startsWith('rediss://') ? { tls: {} } : {}),
    });
    client.on('error', () => {
      // Connection errors are retried by ioredis and surface on the commands themselves.
    });
  }
  return client;
}

/** For tests and graceful shutdown. */
export async function closeRedis(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) await c.quit().catch(() => c.disconnect());
}
