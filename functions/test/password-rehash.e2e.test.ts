import { randomBytes, scryptSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type LocalRuntime, startLocalRuntime } from '@chat/local/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCql, read } from '#adapters/cql/client.ts';
import { createUser } from '#adapters/cql/users.ts';
import { closeRedis } from '#adapters/redis/client.ts';
import { config } from '#platform/config.ts';
import { type Api, httpApi } from './support/http-api.ts';

// Issue 16, item 5: scrypt at N = 2^17, r = 8, p = 1, and a transparent rehash at login of hashes made with
// older parameters. Over the public API (real HTTP against the local runtime, real Cassandra); the stored hash
// is read back from the users table.
const run = randomBytes(3).toString('hex');
const password = 'correct horse battery staple';

let rt: LocalRuntime;
let api: Api;
const logs: string[] = [];

/** A hash as the code made it before issue 16: N = 2^15. */
function oldHash(pw: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(pw.normalize('NFKC'), salt, 32, {
    N: 2 ** 15,
    r: 8,
    p: 1,
    maxmem: 64 * 1024 * 1024,
  });
  return ['scrypt', 2 ** 15, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
}

const storedHash = async (userId: string): Promise<string> =>
  (await read('SELECT password_hash FROM users WHERE user_id = ?', [userId])).first()?.password_hash;

beforeAll(async () => {
  rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    functions: ['httpAuth'],
    // The suite hashes at 2^15 (vitest.config.ts); this test is about the real parameters.
    env: { JWT_KEYS_FILE: resolve(config.jwtKeysFile()), PASSWORD_SCRYPT_LOG2N: '17' },
    kafka: false,
    schedules: false,
    log: (source, line) => logs.push(`[${source}] ${line}`),
  });
  api = httpApi(rt.httpUrl);
}, 120_000);

afterAll(async () => {
  await rt?.stop();
  await Promise.all([closeCql(), closeRedis()]);
  mkdirSync('.local/test-logs', { recursive: true });
  writeFileSync('.local/test-logs/password-rehash.e2e.log', `${logs.join('\n')}\n`);
}, 60_000);

describe('password hashing', () => {
  it('signs up with N = 2^17, r = 8, p = 1', async () => {
    const res = await api('POST', '/auth/signup', { body: { username: `k${run}new`, password } });
    expect(res.status).toBe(201);
    expect(await storedHash(res.body.user.id)).toMatch(/^scrypt\$131072\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
  });

  it('rehashes an older hash at login, transparently: same password, new parameters', async () => {
    const user = await createUser({ username: `k${run}old`, passwordHash: oldHash(password) });
    expect(await storedHash(user.id)).toMatch(/^scrypt\$32768\$8\$1\$/);

    const wrong = await api('POST', '/auth/login', {
      body: { username: user.username, password: 'not it!!' },
    });
    expect(wrong.status).toBe(401);
    expect(await storedHash(user.id)).toMatch(/^scrypt\$32768\$8\$1\$/);

    const first = await api('POST', '/auth/login', { body: { username: user.username, password } });
    expect(first.status).toBe(200);
    const rehashed = await storedHash(user.id);
    expect(rehashed).toMatch(/^scrypt\$131072\$8\$1\$/);

    const again = await api('POST', '/auth/login', { body: { username: user.username, password } });
    expect(again.status).toBe(200);
    expect(await storedHash(user.id)).toBe(rehashed);
  });
});
