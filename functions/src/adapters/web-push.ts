import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import webpush from 'web-push';
import { z } from 'zod';
import { type EndpointPolicy, endpointRefusal, parsePushHosts } from '#core/notifications.ts';
import { config } from '#platform/config.ts';
import { logger } from '#platform/log.ts';
import { readSecretString } from './secrets.ts';

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291), via npm `web-push`
 * for the crypto and the VAPID header; the HTTP request is ours (fetch: a deadline, no redirects, and plain
 * http for the local push emulator, which `web-push`'s own sender cannot do). docs/adr/0010-web-push.md.
 *
 * The VAPID key pair is one JSON document `{ "publicKey", "privateKey" }` (base64url, as `web-push` writes
 * them): locally a file (VAPID_KEYS_FILE, generated on first use, mode 0600), on AWS a Secrets Manager secret
 * (VAPID_KEYS_SECRET_ARN, generated at deploy).
 */

export const VapidKeys = z.object({
  publicKey: z.string().regex(/^[A-Za-z0-9_-]{86,88}$/),
  privateKey: z.string().regex(/^[A-Za-z0-9_-]{42,44}$/),
});
export type VapidKeys = z.infer<typeof VapidKeys>;

const keysFile = (file?: string) => resolve(file ?? config.vapidKeysFile());

/** Makes sure the local VAPID key file exists (atomically, once, mode 0600); returns the keys. */
export async function ensureLocalVapidKeys(file?: string): Promise<VapidKeys & { file: string }> {
  const path = keysFile(file);
  try {
    return { ...VapidKeys.parse(JSON.parse(await readFile(path, 'utf8'))), file: path };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const keys = webpush.generateVAPIDKeys();
  await writeFile(tmp, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  try {
    await link(tmp, path); // EEXIST: another process won the race; theirs is kept
    logger.info('generated local VAPID keys', { file: path });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  return { ...VapidKeys.parse(JSON.parse(await readFile(path, 'utf8'))), file: path };
}

let cachedKeys: { source: string; keys: Promise<VapidKeys> } | undefined;

/** The VAPID keys (cached per execution environment; a failed read is retried on the next call). */
export function vapidKeys(): Promise<VapidKeys> {
  const arn = config.vapidKeysSecretArn();
  const source = arn || keysFile();
  if (!cachedKeys || cachedKeys.source !== source) {
    const keys = arn
      ? readSecretString(arn).then((raw) => VapidKeys.parse(JSON.parse(raw)))
      : ensureLocalVapidKeys().then(({ publicKey, privateKey }) => ({ publicKey, privateKey }));
    const entry = { source, keys };
    cachedKeys = entry;
    keys.catch(() => {
      if (cachedKeys === entry) cachedKeys = undefined;
    });
  }
  return cachedKeys.keys;
}

/** The endpoint allowlist as configured (PUSH_ENDPOINT_HOSTS, PUSH_ALLOW_LOOPBACK). */
export const endpointPolicy = (): EndpointPolicy => ({
  hosts: parsePushHosts(config.pushEndpointHosts()),
  allowLoopback: config.pushAllowLoopback(),
});

export interface WebPushTarget {
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
}

export type SendOutcome =
  | { readonly kind: 'sent'; readonly status: number }
  /** 404/410: the subscription is gone; forget it. */
  | { readonly kind: 'gone'; readonly status: number }
  /** Worth another try (429, 5xx, a timeout, a network error). */
  | { readonly kind: 'transient'; readonly status?: number; readonly reason: string }
  /** Not worth another try (other 4xx, a refused endpoint, a payload the library cannot encrypt). */
  | { readonly kind: 'permanent'; readonly status?: number; readonly reason: string };

export interface SendOptions {
  /** Seconds the push service keeps an undelivered notification. */
  readonly ttlSeconds: number;
  readonly urgency: 'very-low' | 'low' | 'normal' | 'high';
  /** Per-request deadline. */
  readonly timeoutMs: number;
}

/**
 * Encrypts the payload for the subscription and POSTs it to its endpoint (after the allowlist check, again:
 * the allowlist may have changed since the subscription was stored). Never throws.
 */
export async function sendWebPush(
  target: WebPushTarget,
  payload: string,
  options: SendOptions,
): Promise<SendOutcome> {
  const refusal = endpointRefusal(target.endpoint, endpointPolicy());
  if (refusal !== null) return { kind: 'permanent', reason: `endpoint refused: ${refusal}` };
  let details: ReturnType<typeof webpush.generateRequestDetails>;
  try {
    const keys = await vapidKeys();
    details = webpush.generateRequestDetails(
      { endpoint: target.endpoint, keys: { p256dh: target.keys.p256dh, auth: target.keys.auth } },
      payload,
      {
        TTL: options.ttlSeconds,
        urgency: options.urgency,
        contentEncoding: 'aes128gcm',
        vapidDetails: {
          subject: config.vapidSubject(),
          publicKey: keys.publicKey,
          privateKey: keys.privateKey,
        },
      },
    );
  } catch (error) {
    return { kind: 'permanent', reason: `cannot encrypt: ${(error as Error).message}` };
  }
  try {
    const res = await fetch(details.endpoint, {
      method: 'POST',
      // fetch sets Content-Length itself.
      headers: Object.fromEntries(
        Object.entries(details.headers).filter(([k]) => k.toLowerCase() !== 'content-length'),
      ) as Record<string, string>,
      body: details.body ? new Uint8Array(details.body) : undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(Math.max(1, Math.floor(options.timeoutMs))),
    });
    await res.arrayBuffer().catch(() => undefined); // free the socket
    const status = res.status;
    if (status >= 200 && status < 300) return { kind: 'sent', status };
    if (status === 404 || status === 410) return { kind: 'gone', status };
    if (status === 429 || status >= 500) return { kind: 'transient', status, reason: `HTTP ${status}` };
    return { kind: 'permanent', status, reason: `HTTP ${status}` };
  } catch (error) {
    const e = error as Error;
    return { kind: 'transient', reason: e.name === 'TimeoutError' ? 'timeout' : e.message };
  }
}
