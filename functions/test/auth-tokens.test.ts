import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CryptoKey, exportSPKI, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken, verifyAccessToken } from '#adapters/auth/jwt.ts';
import {
  ensureLocalKeys,
  generateKeyRecord,
  importKeySet,
  KeySetDocument,
  loadKeySet,
  resetKeySetCache,
  rotateKeySet,
} from '#adapters/auth/keys.ts';
import { hashPassword, verifyPassword } from '#adapters/auth/password.ts';
import { ChatError } from '#core/errors.ts';
import { config } from '#platform/config.ts';

// Pure crypto tests: a key file of their own in a temp folder, no services needed.
let dir: string;
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chat-keys-'));
  process.env.JWT_KEYS_FILE = join(dir, 'keys', 'jwt-keys.json');
  resetKeySetCache();
});

afterAll(() => {
  delete process.env.JWT_KEYS_FILE;
  resetKeySetCache();
});

const refusal = async (token: string): Promise<string> => {
  try {
    await verifyAccessToken(token);
  } catch (e) {
    if (e instanceof ChatError) return e.code;
    throw e;
  }
  return 'accepted';
};

/** A token signed with the active key, with claims overridden as a test needs. */
async function forge(
  over: { iss?: string; aud?: string; exp?: number; nbf?: number; sub?: string; typ?: string } = {},
): Promise<string> {
  const set = await loadKeySet();
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: 'session' })
    .setProtectedHeader({ alg: set.signingAlg, kid: set.activeKid, typ: over.typ ?? 'at+jwt' })
    .setIssuer(over.iss ?? config.jwtIssuer())
    .setAudience(over.aud ?? config.jwtAudience())
    .setSubject(over.sub ?? 'user-1')
    .setIssuedAt(now)
    .setNotBefore(over.nbf ?? now)
    .setExpirationTime(over.exp ?? now + 600)
    .sign(set.signingKey);
}

describe('passwords (scrypt)', () => {
  it('hashes with a salt and its parameters, and verifies only the right password', async () => {
    process.env.PASSWORD_SCRYPT_LOG2N = '17'; // the suite hashes at 2^15 (vitest.config.ts)
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    process.env.PASSWORD_SCRYPT_LOG2N = '15';
    expect(a).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('correct horse battery', null)).toBe(false);
    expect(await verifyPassword('x', 'scrypt$99999999$8$1$AAAA$BBBB')).toBe(false);
    expect(await verifyPassword('x', 'garbage')).toBe(false);
  });
});

describe('local key set', () => {
  it('generates the key file once, mode 0600, in the documented shape', async () => {
    const first = await ensureLocalKeys();
    const second = await ensureLocalKeys();
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect((await stat(first.file)).mode & 0o777).toBe(0o600);
    const doc = KeySetDocument.parse(JSON.parse(await readFile(first.file, 'utf8')));
    expect(doc.keys).toHaveLength(1);
    expect(doc.keys[0]?.alg).toBe('EdDSA');
    expect(doc.keys[0]?.publicJwk.d).toBeUndefined();
  });

  it('creates exactly one file when several processes race', async () => {
    const file = join(dir, 'race', 'keys.json');
    const results = await Promise.all([1, 2, 3, 4].map(() => ensureLocalKeys(file)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    KeySetDocument.parse(JSON.parse(await readFile(file, 'utf8')));
  });
});

describe('access tokens', () => {
  it('signs and verifies a token for a user and session', async () => {
    const { accessToken, expiresAt } = await signAccessToken('user-42', 'sess-1');
    const claims = await verifyAccessToken(accessToken);
    expect(claims.userId).toBe('user-42');
    expect(claims.sessionId).toBe('sess-1');
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now() + 60_000);
    const header = JSON.parse(Buffer.from(accessToken.split('.')[0] ?? '', 'base64url').toString());
    expect(header).toEqual({ alg: 'EdDSA', kid: (await loadKeySet()).activeKid, typ: 'at+jwt' });
  });

  describe('attack suite: every forged or broken token is refused as unauthorized', () => {
    it('alg none', async () => {
      const set = await loadKeySet();
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: config.jwtIssuer(),
        aud: config.jwtAudience(),
        sub: 'user-1',
        sid: 's',
        iat: now,
        nbf: now,
        exp: now + 600,
      };
      const token = `${b64({ alg: 'none', kid: set.activeKid, typ: 'at+jwt' })}.${b64(claims)}.`;
      expect(await refusal(token)).toBe('unauthorized');
    });

    it('HS256 signed with the public key', async () => {
      const set = await loadKeySet();
      const entry = set.verifyKeys.get(set.activeKid);
      const pem = await exportSPKI(entry?.key as CryptoKey);
      const doc = KeySetDocument.parse(JSON.parse(await readFile(config.jwtKeysFile(), 'utf8')));
      const x = String(doc.keys[0]?.publicJwk.x);
      for (const secret of [pem, x, JSON.stringify(doc.keys[0]?.publicJwk)]) {
        const now = Math.floor(Date.now() / 1000);
        const token = await new SignJWT({ sid: 's' })
          .setProtectedHeader({ alg: 'HS256', kid: set.activeKid, typ: 'at+jwt' })
          .setIssuer(config.jwtIssuer())
          .setAudience(config.jwtAudience())
          .setSubject('user-1')
          .setIssuedAt(now)
          .setNotBefore(now)
          .setExpirationTime(now + 600)
          .sign(new TextEncoder().encode(secret));
        expect(await refusal(token)).toBe('unauthorized');
      }
    });

    it('expired', async () => {
      const now = Math.floor(Date.now() / 1000);
      expect(await refusal(await forge({ exp: now - 60, nbf: now - 120 }))).toBe('unauthorized');
    });

    it('nbf in the future', async () => {
      const now = Math.floor(Date.now() / 1000);
      expect(await refusal(await forge({ nbf: now + 120 }))).toBe('unauthorized');
    });

    it('wrong iss', async () => {
      expect(await refusal(await forge({ iss: 'someone-else' }))).toBe('unauthorized');
    });

    it('wrong aud', async () => {
      expect(await refusal(await forge({ aud: 'another-api' }))).toBe('unauthorized');
    });

    it('wrong typ (an ID token or other JWT signed by the same key)', async () => {
      expect(await refusal(await forge({ typ: 'JWT' }))).toBe('unauthorized');
    });

    it('tampered payload', async () => {
      const good = await forge({ sub: 'user-1' });
      const [h, p, s] = good.split('.') as [string, string, string];
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
      const tampered = `${h}.${b64({ ...payload, sub: 'admin' })}.${s}`;
      expect(await refusal(good)).toBe('accepted');
      expect(await refusal(tampered)).toBe('unauthorized');
    });

    it('unknown kid (a key that is not in the set)', async () => {
      const stranger = await importKeySet({
        activeKid: 'k',
        keys: [{ ...(await generateKeyRecord()), kid: 'k' }],
      });
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ sid: 's' })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'stranger', typ: 'at+jwt' })
        .setIssuer(config.jwtIssuer())
        .setAudience(config.jwtAudience())
        .setSubject('user-1')
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + 600)
        .sign(stranger.signingKey);
      expect(await refusal(token)).toBe('unauthorized');
      // and the right kid with a foreign signature
      const set = await loadKeySet();
      const mixed = await new SignJWT({ sid: 's' })
        .setProtectedHeader({ alg: 'EdDSA', kid: set.activeKid, typ: 'at+jwt' })
        .setIssuer(config.jwtIssuer())
        .setAudience(config.jwtAudience())
        .setSubject('user-1')
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + 600)
        .sign(stranger.signingKey);
      expect(await refusal(mixed)).toBe('unauthorized');
    });

    it('garbage', async () => {
      for (const t of [
        '',
        'garbage',
        'a.b.c',
        '...',
        `${b64({ alg: 'EdDSA' })}.e30.`,
        randomBytes(64).toString(),
      ]) {
        expect(await refusal(t)).toBe('unauthorized');
      }
    });
  });

  it('verifies with the public key set alone (a JWKS without private keys)', async () => {
    const { accessToken } = await signAccessToken('user-pub', 'sess');
    const { file, publicFile } = await ensureLocalKeys();
    const jwks = JSON.parse(await readFile(publicFile, 'utf8'));
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const k of jwks.keys)
      expect(Object.keys(k).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    // Without the private file at all, a verifier still verifies.
    await rename(file, `${file}.away`);
    try {
      resetKeySetCache();
      expect((await verifyAccessToken(accessToken)).userId).toBe('user-pub');
    } finally {
      await rename(`${file}.away`, file);
    }
  });

  it('rotates keys: old tokens keep verifying, new ones use the new kid', async () => {
    // Arrange: a token under the current key, then a rotation written to the key file
    const before = await signAccessToken('user-rot', 'sess');
    const file = config.jwtKeysFile();
    const doc = KeySetDocument.parse(JSON.parse(await readFile(file, 'utf8')));
    const next = await generateKeyRecord();
    await writeFile(file, JSON.stringify(rotateKeySet(doc, next)), { mode: 0o600 });
    resetKeySetCache();
    // Act
    const after = await signAccessToken('user-rot', 'sess');
    // Assert
    const kidOf = (t: string) => JSON.parse(Buffer.from(t.split('.')[0] ?? '', 'base64url').toString()).kid;
    expect(kidOf(after.accessToken)).toBe(next.kid);
    expect(kidOf(before.accessToken)).not.toBe(next.kid);
    expect((await verifyAccessToken(before.accessToken)).userId).toBe('user-rot');
    expect((await verifyAccessToken(after.accessToken)).userId).toBe('user-rot');
    const rotated = KeySetDocument.parse(JSON.parse(await readFile(file, 'utf8')));
    expect(rotated.keys.filter((k) => k.privateJwk)).toHaveLength(1);
  });
});
