/**
 * REDIS_KEY_PREFIX (a local runtime's deployment namespace, docs/local-runtime.md): the handlers' one Redis
 * client prefixes every key it sends, in plain commands, auto-pipelines, MULTI and Lua (EVAL/EVALSHA KEYS), and
 * the prefix, outside the hash tags, keeps the keys of one tag in one slot (a CROSSSLOT error would say
 * otherwise). Checked against the real Redis cluster with a second, unprefixed client.
 */
import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRedis, redis } from '#adapters/redis/client.ts';
import { consumeTicket, issueTicket } from '#adapters/redis/tickets.ts';
import { ENV } from '#contracts/env.ts';
import { config } from '#platform/config.ts';

const prefix = `t-${randomUUID().slice(0, 8)}:`;
let raw: Cluster;
const saved = process.env[ENV.REDIS_KEY_PREFIX];

beforeAll(async () => {
  await closeRedis();
  process.env[ENV.REDIS_KEY_PREFIX] = prefix;
  const u = new URL(config.redisUrl());
  raw = new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }]);
});

afterAll(async () => {
  await closeRedis();
  if (saved === undefined) delete process.env[ENV.REDIS_KEY_PREFIX];
  else process.env[ENV.REDIS_KEY_PREFIX] = saved;
  await raw.quit();
});

describe('REDIS_KEY_PREFIX', () => {
  it('plain and auto-pipelined commands write and read the prefixed key only', async () => {
    const tag = randomUUID();
    await Promise.all([redis().set(`a:{${tag}}`, '1', 'EX', 60), redis().set(`b:{${tag}}`, '2', 'EX', 60)]);
    expect(await raw.get(`${prefix}a:{${tag}}`)).toBe('1');
    expect(await raw.exists(`a:{${tag}}`)).toBe(0);
    // A multi-key command of one tag: prefixed before the slot is computed, so still one slot.
    expect(await redis().mget(`a:{${tag}}`, `b:{${tag}}`)).toEqual(['1', '2']);
  });

  it('MULTI: every queued key is prefixed', async () => {
    const tag = randomUUID();
    const res = await redis()
      .multi()
      .incr(`n:{${tag}}`)
      .expire(`n:{${tag}}`, 60)
      .hset(`h:{${tag}}`, 'f', 'v')
      .exec();
    expect(res?.every(([err]) => err === null)).toBe(true);
    expect(await raw.get(`${prefix}n:{${tag}}`)).toBe('1');
    expect(await raw.hget(`${prefix}h:{${tag}}`, 'f')).toBe('v');
    expect(await raw.exists(`n:{${tag}}`, `h:{${tag}}`)).toBe(0);
    await raw.del(`${prefix}h:{${tag}}`);
  });

  it('Lua: EVAL and EVALSHA get prefixed KEYS (and ARGV untouched)', async () => {
    const tag = randomUUID();
    const lua = "redis.call('SET', KEYS[1], ARGV[1], 'EX', 60); return {KEYS[1], KEYS[2]}";
    const keys = [`x:{${tag}}`, `y:{${tag}}`];
    expect(await redis().eval(lua, 2, ...keys, 'x:not-a-key')).toEqual(keys.map((k) => prefix + k));
    expect(await raw.get(`${prefix}x:{${tag}}`)).toBe('x:not-a-key');
    const sha = (await raw.script('LOAD', lua)) as string;
    const tag2 = randomUUID();
    await redis().evalsha(sha, 2, `x:{${tag2}}`, `y:{${tag2}}`, 'again');
    expect(await raw.get(`${prefix}x:{${tag2}}`)).toBe('again');
    expect(await raw.exists(`x:{${tag}}`)).toBe(0);
    expect(await raw.exists(`x:{${tag2}}`)).toBe(0);
  });

  it('an adapter (one-time tickets) lives under the prefix: another namespace does not see it', async () => {
    const { ticket } = await issueTicket('user-1', 'session-1');
    await closeRedis();
    process.env[ENV.REDIS_KEY_PREFIX] = `${prefix}other:`;
    expect(await consumeTicket(ticket)).toBeNull();
    await closeRedis();
    process.env[ENV.REDIS_KEY_PREFIX] = prefix;
    expect(await consumeTicket(ticket)).toEqual({ userId: 'user-1', sessionId: 'session-1' });
  });
});
