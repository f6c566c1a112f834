/**
 * The Redis cluster client: its options for the local and the AWS URL, and how it fails when Redis is away
 * (fast, as an outage the handlers map to `unavailable`) and comes back (the next call builds a new client).
 */

import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { isOutage } from '#adapters/outage.ts';
import { ENV } from '#contracts/env.ts';
import { closeRedis, clusterOptions, redis } from './client.ts';

afterAll(() => closeRedis());

describe('cluster options', () => {
  it('local: plain TCP to the startup node, addresses from DNS as usual', () => {
    const { startupNode, options } = clusterOptions('redis://127.0.0.1:6379');
    expect(startupNode).toEqual({ host: '127.0.0.1', port: 6379 });
    expect(options.redisOptions?.tls).toBeUndefined();
    expect(options.dnsLookup).toBeUndefined();
  });

  it('ElastiCache (rediss://): TLS, and the endpoint name kept for the certificate check', async () => {
    const { startupNode, options } = clusterOptions(
      'rediss://chat-abc.serverless.use1.cache.amazonaws.com:6379',
    );
    expect(startupNode.host).toBe('chat-abc.serverless.use1.cache.amazonaws.com');
    expect(options.redisOptions?.tls).toEqual({});
    const resolved = await new Promise((resolve) =>
      options.dnsLookup?.('node-1.chat-abc.cache.amazonaws.com', (_err, address) => resolve(address)),
    );
    expect(resolved).toBe('node-1.chat-abc.cache.amazonaws.com');
  });

  it('refuses a database number (cluster mode has only database 0) and a foreign scheme', () => {
    expect(() => clusterOptions('redis://127.0.0.1:6379/3')).toThrow(/only database 0/);
    expect(clusterOptions('redis://127.0.0.1:6379/0').startupNode.port).toBe(6379);
    expect(() => clusterOptions('http://127.0.0.1:6379')).toThrow(/redis:\/\/ or rediss:\/\//);
  });
});

describe('outage', () => {
  it('fails fast as an outage while Redis is away, and reconnects with the next call once it is back', async () => {
    // A port with nothing listening: what a stopped or restarting Redis looks like.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const saved = process.env[ENV.REDIS_URL];
    process.env[ENV.REDIS_URL] = `redis://127.0.0.1:${port}`;
    try {
      await closeRedis();
      const t0 = Date.now();
      const error = await redis()
        .mget('t:{x}:a', 't:{x}:b')
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(Error);
      expect(isOutage(error), String(error)).toBe(true);
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      if (saved === undefined) delete process.env[ENV.REDIS_URL];
      else process.env[ENV.REDIS_URL] = saved;
    }
    // Once the client has given up (two attempts), the next call builds a new one: Redis answers again (the
    // shared local cluster, REDIS_URL restored).
    const deadline = Date.now() + 5_000;
    let answer: unknown;
    while (answer !== 'OK' && Date.now() < deadline) {
      answer = await redis()
        .set('t:{client-test}', '1', 'EX', 5)
        .catch((e: unknown) => e);
      if (answer !== 'OK') await delay(100);
    }
    expect(answer).toBe('OK');
  });
});
