import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose';
import { z } from 'zod';
import { config } from '#platform/config.ts';
import { logger } from '#platform/log.ts';
import { readSecretString } from '../secrets.ts';

/**
 * The JWT signing key set. One JSON document, the same locally (a file, JWT_KEYS_FILE, generated on first start,
 * mode 0600) and on AWS (a Secrets Manager secret, JWT_KEYS_SECRET_ARN, generated at deploy):
 *
 *     { "activeKid": "…", "keys": [{ "kid", "alg": "EdDSA" | "ES256", "privateJwk", "publicJwk", "createdAt" }] }
 *
 * Tokens are signed with the active key and carry its `kid`; a token verifies against the key of the set with
 * that `kid`, so after a rotation (new key made active, old keys kept until the tokens they signed expired)
 * every token in flight stays valid. See docs/auth.md.
 */

export const SigningAlgs = ['EdDSA', 'ES256'] as const;
export type SigningAlg = (typeof SigningAlgs)[number];

const Jwk = z.record(z.string(), z.unknown());
export const KeyRecord = z.object({
  kid: z.string().min(1).max(128),
  alg: z.enum(SigningAlgs),
  privateJwk: Jwk.optional(),
  publicJwk: Jwk,
  createdAt: z.iso.datetime(),
});
export const KeySetDocument = z
  .object({ activeKid: z.string().min(1), keys: z.array(KeyRecord).min(1) })
  .refine((d) => d.keys.some((k) => k.kid === d.activeKid && k.privateJwk), {
    message: 'activeKid must name a key of the set that has a privateJwk',
  })
  .refine((d) => new Set(d.keys.map((k) => k.kid)).size === d.keys.length, {
    message: 'kids must be unique',
  });
export type KeyRecord = z.infer<typeof KeyRecord>;
export type KeySetDocument = z.infer<typeof KeySetDocument>;

/** A key set ready to use: the signing key and every verification key by `kid`. */
export interface LoadedKeySet {
  activeKid: string;
  signingAlg: SigningAlg;
  signingKey: CryptoKey;
  verifyKeys: ReadonlyMap<string, { alg: SigningAlg; key: CryptoKey }>;
}

const curveOf = (alg: SigningAlg) => (alg === 'EdDSA' ? 'Ed25519' : 'P-256');

/** A new key pair as a key-set entry; its `kid` is the RFC 7638 thumbprint of the public key. */
export async function generateKeyRecord(alg: SigningAlg = 'EdDSA', now = new Date()): Promise<KeyRecord> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { crv: curveOf(alg), extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    alg,
    privateJwk: { ...privateJwk, kid, alg, use: 'sig' },
    publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
    createdAt: now.toISOString(),
  };
}

export async function generateKeySet(alg: SigningAlg = 'EdDSA'): Promise<KeySetDocument> {
  const key = await generateKeyRecord(alg);
  return { activeKid: key.kid, keys: [key] };
}

/**
 * Rotation: a new key becomes active; the previous keys stay for verification (the newest `keep` in all), and
 * old keys lose their private half, which is never needed again.
 */
export function rotateKeySet(doc: KeySetDocument, next: KeyRecord, keep = 3): KeySetDocument {
  const older = doc.keys.filter((k) => k.kid !== next.kid).map(({ privateJwk: _private, ...rest }) => rest);
  return { activeKid: next.kid, keys: [next, ...older].slice(0, Math.max(1, keep)) };
}

// ── Loading ───────────────────────────────────────────────────────────────────────────────────────────────

const keysFile = (file?: string) => resolve(file ?? config.jwtKeysFile());

/**
 * Make sure the local key file exists (generate a key set into it, mode 0600, if not). Safe to call from
 * several processes at once: the file appears atomically, complete, exactly once. The dev orchestrator calls
 * this on start; `loadKeySet` also calls it lazily, so tests need nothing.
 */
export async function ensureLocalKeys(file?: string): Promise<{ file: string; created: boolean }> {
  const path = keysFile(file);
  try {
    await readFile(path);
    return { file: path, created: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(await generateKeySet(), null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  try {
    await link(tmp, path); // fails with EEXIST if another process won the race: theirs is kept
    logger.info('generated a local JWT key set', { file: path });
    return { file: path, created: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return { file: path, created: false };
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function readDocument(): Promise<KeySetDocument> {
  const arn = config.jwtKeysSecretArn();
  let raw: string;
  if (arn) {
    raw = await readSecretString(arn);
  } else {
    const { file } = await ensureLocalKeys();
    raw = await readFile(file, 'utf8');
  }
  const parsed = KeySetDocument.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`invalid JWT key set document: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export async function importKeySet(doc: KeySetDocument): Promise<LoadedKeySet> {
  const verifyKeys = new Map<string, { alg: SigningAlg; key: CryptoKey }>();
  for (const k of doc.keys) {
    const key = (await importJWK(k.publicJwk as JWK, k.alg)) as CryptoKey;
    verifyKeys.set(k.kid, { alg: k.alg, key });
  }
  const active = doc.keys.find((k) => k.kid === doc.activeKid);
  if (!active?.privateJwk) throw new Error('the active JWT key has no private key');
  const signingKey = (await importJWK(active.privateJwk as JWK, active.alg)) as CryptoKey;
  return { activeKid: active.kid, signingAlg: active.alg, signingKey, verifyKeys };
}

/** Reloaded this often, so a rotation reaches every warm execution environment. */
const REFRESH_MS = 5 * 60 * 1000;
/** An unknown `kid` may trigger an early reload, at most this often. */
const MISS_RELOAD_MS = 30 * 1000;

let cached: { set: Promise<LoadedKeySet>; at: number } | undefined;
let lastMissReload = 0;

/** The key set of this execution environment: loaded on first use, reloaded every few minutes. */
export function loadKeySet(): Promise<LoadedKeySet> {
  const now = Date.now();
  if (!cached || now - cached.at > REFRESH_MS) {
    const set = readDocument().then(importKeySet);
    cached = { set, at: now };
    set.catch(() => {
      if (cached?.set === set) cached = undefined; // do not cache a failure
    });
  }
  return cached.set;
}

/** Reload after an unknown `kid` (a key rotated in elsewhere), rate limited. True if a reload happened. */
export async function reloadKeySetAfterMiss(): Promise<boolean> {
  const now = Date.now();
  if (now - lastMissReload < MISS_RELOAD_MS) return false;
  lastMissReload = now;
  cached = undefined;
  await loadKeySet();
  return true;
}

/** Forget the cached key set (tests; after writing a new document). */
export function resetKeySetCache(): void {
  cached = undefined;
  lastMissReload = 0;
}
