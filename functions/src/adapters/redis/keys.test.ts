/**
 * The slot discipline of the Redis keys (Redis runs in cluster mode locally and on AWS): every key builder is
 * listed here with the operations that use it, and keys used together in one multi-key command, MULTI, script or
 * pipeline hash to one slot, for any ids. A new key builder fails the first test until it is listed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as keys from './keys.ts';

/** CRC16-CCITT (XMODEM), the hash of the Redis cluster specification. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The hash slot of a key: the CRC16 of its hash tag (first `{…}` with something inside), else of the key. */
function slotOf(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(Buffer.from(key.slice(open + 1, close))) % 16384;
  }
  return crc16(Buffer.from(key)) % 16384;
}

const sameSlot = (list: readonly string[]) => new Set(list.map(slotOf)).size === 1;

/** Ids as they come (ULIDs, UUIDs, API Gateway connection ids) and hostile ones (braces, unicode). */
const ids = [
  '01JDZ7Q8X9ABCDEFGHJKMNPQRS',
  'd3b07384-d9a7-4c1b-9f3e-6b1f2c3d4e5f',
  'LkT1Xc0SoAMCJkA=',
  'a}b{c',
  '{x}',
  'ü→',
];

/**
 * Every key builder, and the multi-key operations (MULTI, MGET, Lua, explicit pipelines) that use it. A builder
 * that is only ever used by single-key commands says so with an empty list.
 */
const operations: Record<keyof typeof keys, (id: string, other: string) => Record<string, string[]>> = {
  connKey: (c) => ({
    'addConnection: MULTI HSET+PEXPIRE on the connection': [keys.connKey(c), keys.connKey(c)],
    'a connection and its rate counters share the connection tag': [
      keys.connKey(c),
      keys.connRateKey(c, 'frames', 1),
      keys.connRateKey(c, `typing:${c}`, 2),
    ],
  }),
  frameKeys: (c) => ({
    'admitFrame: FRAME script, KEYS[1..2] (owner, frame rate, refresh decision)': keys.frameKeys(
      c,
      1_733_000_000,
    ),
  }),
  connRateKey: (c, v) => ({
    'withinRate: MULTI INCR+EXPIRE': [keys.connRateKey(c, `typing:${v}`, 1_733_000_000)],
  }),
  userConnsKey: (u) => ({
    'addConnection/removeConnection: MULTI on the user set': [keys.userConnsKey(u)],
    'refreshPresence: REFRESH script, KEYS[1]': [keys.userConnsKey(u)],
  }),
  seenKey: (u) => ({
    "presence of one user: the user's set and last-seen share the user tag": [
      keys.userConnsKey(u),
      keys.seenKey(u),
    ],
  }),
  EXPIRY_KEY: () => ({}),
  ticketKey: () => ({}),
  pushedKey: (v, m) => ({
    'pushedAlready: MGET of one conversation; markPushed: pipeline of one conversation': [
      keys.pushedKey(v, m),
      keys.pushedKey(v, `${m}1`),
      keys.pushedKey(v, '01JDZ7Q8X9ABCDEFGHJKMNPQRZ'),
    ],
  }),
  webPushSentKey: (u, m) => ({
    "alreadySent: MGET of one user's devices for one message": [
      keys.webPushSentKey(u, m, 'e1'),
      keys.webPushSentKey(u, m, 'e2'),
      keys.webPushSentKey(u, `${m}x`, 'e3'),
    ],
  }),
  clientMsgKey: (v, s) => ({
    "a conversation's client ids and fan-out markers share the conversation tag": [
      keys.clientMsgKey(v, s, 'c1'),
      keys.clientMsgKey(v, `${s}x`, 'c2'),
      keys.pushedKey(v, 'm'),
    ],
  }),
  rateKey: () => ({}),
  loginPairKey: () => ({}),
};

describe('Redis keys and hash slots', () => {
  it('lists every key builder of keys.ts', () => {
    expect(Object.keys(keys).sort()).toEqual(Object.keys(operations).sort());
  });

  it('computes slots as Redis does (cluster specification test vectors)', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
    expect(slotOf('foo')).toBe(12182);
    expect(slotOf('somekey')).toBe(11058);
    expect(slotOf('{foo}bar')).toBe(slotOf('foo'));
    // Spec examples: an empty first tag hashes the whole key; only the first `{` counts.
    expect(slotOf('foo{}{bar}')).toBe(crc16(Buffer.from('foo{}{bar}')) % 16384);
    expect(slotOf('foo{{bar}}zap')).toBe(slotOf('{bar'));
    expect(slotOf('foo{bar}{zap}')).toBe(slotOf('bar'));
  });

  for (const [builder, ops] of Object.entries(operations)) {
    it(`${builder}: keys used together share one slot, for any ids`, () => {
      for (const a of ids)
        for (const b of ids)
          for (const [op, list] of Object.entries(ops(a, b)))
            expect(
              sameSlot(list),
              `${op} (${a}, ${b}): ${list.map((k) => `${k}→${slotOf(k)}`).join(', ')}`,
            ).toBe(true);
    });
  }

  it('spreads subjects over slots (tags are per subject, not one hot slot)', () => {
    const slots = new Set(
      Array.from({ length: 50 }, (_, i) => [
        slotOf(keys.userConnsKey(`user-${i}`)),
        slotOf(keys.rateKey('httpPerUser', `user-${i}`)),
        slotOf(keys.loginPairKey(`user-${i}`, `10.0.0.${i}`)),
        slotOf(keys.pushedKey(`conv-${i}`, 'm')),
      ]).flat(),
    );
    expect(slots.size).toBeGreaterThan(150);
    // A username's pairs from two IPs are two budgets in two slots (never one transaction).
    expect(keys.loginPairKey('alice', '10.0.0.1')).not.toBe(keys.loginPairKey('Alice', '10.0.0.2'));
    expect(keys.loginPairKey('alice', '10.0.0.1')).toBe(keys.loginPairKey('Alice', '10.0.0.1'));
  });

  it('no Redis key is built outside keys.ts', () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const files = [
      ...readdirSync(here)
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'keys.ts')
        .map((f) => path.join(here, f)),
      path.join(here, '..', 'auth', 'rate-limit.ts'),
    ];
    for (const file of files) {
      const code = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      expect(code, file).not.toMatch(/[`'"](ws|rl):/);
    }
  });
});
