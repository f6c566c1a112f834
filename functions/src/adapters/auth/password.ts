import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { config } from '#platform/config.ts';

/**
 * Password hashing with scrypt (node:crypto): a slow, memory-hard, salted hash. The stored string carries its
 * parameters, so they can be raised later without breaking existing hashes:
 *
 *     scrypt$<N>$<r>$<p>$<salt, base64url>$<hash, base64url>
 *
 * N = 2^17, r = 8, p = 1 (128 MiB, ~100+ ms of CPU) follows the OWASP password storage cheat sheet. A login
 * whose stored hash has other parameters (older ones: N = 2^15 before issue 16) stores a new hash with today's
 * (`needsRehash`, core/auth.ts). PASSWORD_SCRYPT_LOG2N lowers N for the local benchmark only (config.ts).
 */

const params = () => ({ N: 2 ** config.scryptLog2N(), r: 8, p: 1 });
const KEY_LEN = 32;
const SALT_LEN = 16;
/** Refuse stored parameters beyond these (a tampered hash must not make us allocate gigabytes). */
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

function derive(
  password: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
  len: number,
): Promise<Buffer> {
  // scrypt needs 128·N·r bytes (plus 128·r·p); Node refuses more than `maxmem` (default 32 MiB).
  const opts: ScryptOptions = { N, r, p, maxmem: 128 * N * r + 128 * r * p + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, len, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LEN);
  const { N, r, p } = params();
  const key = await derive(password, salt, N, r, p, KEY_LEN);
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface Parsed {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parse(stored: string): Parsed | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const key = Buffer.from(parts[5] ?? '', 'base64url');
  const ok =
    Number.isInteger(N) &&
    N > 1 &&
    N <= MAX_N &&
    (N & (N - 1)) === 0 &&
    Number.isInteger(r) &&
    r >= 1 &&
    r <= MAX_R &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= MAX_P &&
    salt.length >= 8 &&
    key.length >= 16;
  return ok ? { N, r, p, salt, key } : null;
}

/**
 * Compared against when the user does not exist: the current parameters with a random salt and key (no
 * password hashes to it), so the work equals a real check and costs nothing to make.
 */
const dummy = (): Parsed => ({ ...params(), salt: DUMMY_SALT, key: DUMMY_KEY });
const DUMMY_SALT = randomBytes(SALT_LEN);
const DUMMY_KEY = randomBytes(KEY_LEN);

/** The stored hash was made with other parameters than today's (or is unreadable): rehash it at login. */
export function needsRehash(stored: string): boolean {
  const parsed = parse(stored);
  const now = params();
  return !parsed || parsed.N !== now.N || parsed.r !== now.r || parsed.p !== now.p;
}

/**
 * Compare a password with a stored hash in constant time. With `stored = null` (no such user) the same scrypt
 * work is done against a dummy hash and the answer is false, so timing does not tell whether a username exists.
 */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const target = stored === null ? null : parse(stored);
  const effective = target ?? dummy();
  const key = await derive(
    password,
    effective.salt,
    effective.N,
    effective.r,
    effective.p,
    effective.key.length,
  );
  const same = timingSafeEqual(key, effective.key);
  return target !== null && same;
}
