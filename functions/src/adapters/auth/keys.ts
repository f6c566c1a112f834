import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
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
 *
 * Only the function that signs (httpAuth) reads that document. Every function verifies with the PUBLIC key set,
 * a JWKS derived from it (`{ keys: [publicJwk…] }`, no private half): a second secret on AWS
 * (JWT_PUBLIC_KEYS_SECRET_ARN, written by the key set's custom resource and rotation before a new key signs),
 * a second file locally (JWT_PUBLIC_KEYS_FILE, beside the private one, written by `ensureLocalKeys`).
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
/** The public key set: a JWKS whose keys name their `kid` and `alg`. */
export const PublicKeySetDocument = z.object({
  keys: z.array(z.looseObject({ kid: z.string().min(1).max(128), alg: z.enum(SigningAlgs) })).min(1),
});
export type PublicKeySetDocument = z.infer<typeof PublicKeySetDocument>;

/** The public half of a key set document (what verifiers may read). */
export const publicKeySet = (doc: KeySetDocument): PublicKeySetDocument => ({
  keys: doc.keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg })),
});
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
/** JWT_PUBLIC_KEYS_FILE, else `jwt-public-keys.json` beside the private file. */
const publicKeysFile = (privateFile: string) =>
  resolve(config.jwtPublicKeysFile() || join(dirname(privateFile), 'jwt-public-keys.json'));

/**
 * Make sure the local key files exist: the private set (generated, mode 0600, if missing) and the public set
 * derived from it (rewritten when it does not match). Safe to call from several processes at once: each file
 * appears atomically, complete. The dev orchestrator calls this on start; the loaders also call it lazily, so
 * tests need nothing.
 */
export async function ensureLocalKeys(
  file?: string,
): Promise<{ file: string; publicFile: string; created: boolean }> {
  const result = await ensurePrivateFile(keysFile(file));
  const doc = KeySetDocument.parse(JSON.parse(await readFile(result.file, 'utf8')));
  const publicFile = publicKeysFile(result.file);
  const text = `${JSON.stringify(publicKeySet(doc), null, 2)}\n`;
  const current = await readFile(publicFile, 'utf8').catch(() => '');
  if (current !== text) {
    const tmp = `${publicFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, publicFile);
  }
  return { ...result, publicFile };
}

async function ensurePrivateFile(path: string): Promise<{ file: string; created: boolean }> {
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
let cachedVerify: { keys: Promise<VerifyKeys>; at: number } | undefined;
let lastMissReload = 0;

export type VerifyKeys = ReadonlyMap<string, { alg: SigningAlg; key: CryptoKey }>;

const cachedOnce = <T>(load: () => Promise<T>, forget: (p: Promise<T>) => void): Promise<T> => {
  const p = load();
  p.catch(() => forget(p)); // do not cache a failure
  return p;
};

/** The signing key set (private; the auth function only): loaded on first use, reloaded every few minutes. */
export function loadKeySet(): Promise<LoadedKeySet> {
  const now = Date.now();
  if (!cached || now - cached.at > REFRESH_MS) {
    const set = cachedOnce(
      () => readDocument().then(importKeySet),
      (p) => {
        if (cached?.set === p) cached = undefined;
      },
    );
    cached = { set, at: now };
  }
  return cached.set;
}

/** The public key set, read on AWS from JWT_PUBLIC_KEYS_SECRET_ARN, locally from the public file. */
async function readPublicDocument(): Promise<PublicKeySetDocument> {
  const arn = config.jwtPublicKeysSecretArn();
  let raw: string;
  if (arn) {
    raw = await readSecretString(arn);
  } else {
    // Locally only the public file, unless it does not exist yet (first start: made from the private set).
    raw = await readFile(publicKeysFile(keysFile()), 'utf8').catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
      return readFile((await ensureLocalKeys()).publicFile, 'utf8');
    });
  }
  const parsed = PublicKeySetDocument.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`invalid JWT public key set: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export async function importPublicKeySet(doc: PublicKeySetDocument): Promise<VerifyKeys> {
  const keys = new Map<string, { alg: SigningAlg; key: CryptoKey }>();
  for (const jwk of doc.keys) {
    keys.set(jwk.kid, { alg: jwk.alg, key: (await importJWK(jwk as JWK, jwk.alg)) as CryptoKey });
  }
  return keys;
}

/** The verification keys by `kid` (every function): loaded on first use, reloaded every few minutes. */
export function loadVerifyKeys(): Promise<VerifyKeys> {
  const now = Date.now();
  if (!cachedVerify || now - cachedVerify.at > REFRESH_MS) {
    const keys = cachedOnce(
      () => readPublicDocument().then(importPublicKeySet),
      (p) => {
        if (cachedVerify?.keys === p) cachedVerify = undefined;
      },
    );
    cachedVerify = { keys, at: now };
  }
  return cachedVerify.keys;
}

/** Reload after an unknown `kid` (a key rotated in elsewhere), rate limited. True if a reload happened. */
export async function reloadKeySetAfterMiss(): Promise<boolean> {
  const now = Date.now();
  if (now - lastMissReload < MISS_RELOAD_MS) return false;
  lastMissReload = now;
  cached = undefined;
  cachedVerify = undefined;
  // Locally nothing publishes a rotated key set but this: re-derive the public file from the private one.
  if (!config.jwtPublicKeysSecretArn() && !config.jwtKeysSecretArn()) await ensureLocalKeys();
  await loadVerifyKeys();
  return true;
}

/** Forget the cached key sets (tests; after writing a new document). */
export function resetKeySetCache(): void {
  cached = undefined;
  cachedVerify = undefined;
  lastMissReload = 0;
}
