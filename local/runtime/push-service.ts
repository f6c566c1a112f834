/**
 * A Web Push service emulator (issue 15): what FCM, Mozilla autopush or Apple's service are to a browser, for
 * the local runtime's tests and the bench. It hands out subscription endpoints
 * (`http://127.0.0.1:<port>/push/<id>`), accepts RFC 8030 pushes to them and checks what a real service checks
 * of VAPID (RFC 8292): `Authorization: vapid t=<JWT>, k=<public key>`, the JWT signed ES256 by that key, its
 * `aud` this service's origin, its `exp` in the future and at most 24 h away, a `sub` contact; and
 * `Content-Encoding: aes128gcm` with a `TTL` header. Every request is recorded (accepted or not) with its
 * encrypted body: tests decrypt it with the subscription's private keys (`@chat/local/testing`, web-push).
 *
 * It can be told how to answer, per endpoint or for all: a status (410 Gone, 500…) and a delay (a slow
 * service). The functions reach it only because the local runtime allows loopback endpoints
 * (PUSH_ALLOW_LOOPBACK=1); on AWS the allowlist refuses them.
 */
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPush {
  /** The endpoint id (the last path segment). */
  readonly id: string;
  readonly endpoint: string;
  readonly at: number;
  /** What the emulator answered. */
  readonly status: number;
  /** Why it refused the request (VAPID or headers), when it did. */
  readonly refusal: string | null;
  readonly headers: {
    readonly ttl: string | null;
    readonly urgency: string | null;
    readonly contentEncoding: string | null;
    readonly topic: string | null;
  };
  /** The verified VAPID claims (null when refused before). */
  readonly vapid: {
    readonly aud: string;
    readonly exp: number;
    readonly sub: string;
    readonly k: string;
  } | null;
  /** The encrypted body (aes128gcm). */
  readonly body: Buffer;
}

export interface PushBehavior {
  /** Answer this status instead of 201 (after a valid request), e.g. 410, 404, 429, 500. */
  readonly status?: number;
  /** Wait this long before answering (a slow service). */
  readonly delayMs?: number;
}

export interface PushServiceEmulator {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** A new subscription endpoint (what `pushManager.subscribe` would return as `endpoint`). */
  newEndpoint(): string;
  /** Every request so far, or those of one endpoint. */
  received(endpoint?: string): ReceivedPush[];
  /** How to answer requests to `endpoint` (or to every endpoint, `'*'`); `null` restores 201. */
  setBehavior(endpoint: string | '*', behavior: PushBehavior | null): void;
  /** Forgets the recorded requests. */
  clear(): void;
  close(): Promise<void>;
}

const MAX_BODY = 8 * 1024;
const DAY_SECONDS = 24 * 3600;

/** The key as a node KeyObject: `k` is the uncompressed P-256 point (65 bytes, base64url). */
function publicKeyOf(k: string) {
  const raw = Buffer.from(k, 'base64url');
  if (raw.length !== 65 || raw[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: raw.subarray(1, 33).toString('base64url'),
      y: raw.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
}

/** Checks a VAPID Authorization header; returns the claims or throws with the reason. */
export function checkVapid(
  authorization: string | undefined,
  origin: string,
  nowSeconds: number,
): { aud: string; exp: number; sub: string; k: string } {
  const m = /^vapid\s+t=([A-Za-z0-9_.-]+)\s*,\s*k=([A-Za-z0-9_-]+)\s*$/i.exec(authorization ?? '');
  if (!m) throw new Error('no "vapid t=…, k=…" Authorization header');
  const [, token = '', k = ''] = m;
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('the token is not a JWS');
  const [h = '', p = '', s = ''] = parts;
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
  if (header.alg !== 'ES256') throw new Error(`alg ${String(header.alg)} is not ES256`);
  const ok = verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key: publicKeyOf(k), dsaEncoding: 'ieee-p1363' },
    Buffer.from(s, 'base64url'),
  );
  if (!ok) throw new Error('bad signature');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  if (claims.aud !== origin) throw new Error(`aud ${String(claims.aud)} is not ${origin}`);
  const exp = claims.exp;
  if (typeof exp !== 'number') throw new Error('no exp');
  if (exp <= nowSeconds) throw new Error('expired');
  if (exp > nowSeconds + DAY_SECONDS) throw new Error('exp more than 24 h away');
  const sub = claims.sub;
  if (typeof sub !== 'string' || !/^(mailto:|https:)/.test(sub))
    throw new Error('sub is not mailto: or https:');
  return { aud: claims.aud, exp, sub, k };
}

export async function startPushService(
  opts: { host?: string; port?: number } = {},
): Promise<PushServiceEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const received: ReceivedPush[] = [];
  const behaviors = new Map<string, PushBehavior>();
  let origin = '';
  const timers = new Set<NodeJS.Timeout>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', origin);
    const match = /^\/push\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
    if (req.method !== 'POST' || !match) {
      res.writeHead(404).end();
      return;
    }
    const id = match[1] ?? '';
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) {
        res.writeHead(413).end();
        return;
      }
      chunks.push(c as Buffer);
    }
    const header = (name: string): string | null => {
      const v = req.headers[name];
      return typeof v === 'string' ? v : null;
    };
    let refusal: string | null = null;
    let vapid: ReceivedPush['vapid'] = null;
    try {
      vapid = checkVapid(header('authorization') ?? undefined, origin, Math.floor(Date.now() / 1000));
      if (header('content-encoding') !== 'aes128gcm') throw new Error('Content-Encoding is not aes128gcm');
      if (header('ttl') === null) throw new Error('no TTL header');
    } catch (e) {
      refusal = e instanceof Error ? e.message : String(e);
    }
    const behavior = behaviors.get(id) ?? behaviors.get('*') ?? {};
    const status = refusal !== null ? 403 : (behavior.status ?? 201);
    received.push({
      id,
      endpoint: `${origin}/push/${id}`,
      at: Date.now(),
      status,
      refusal,
      headers: {
        ttl: header('ttl'),
        urgency: header('urgency'),
        contentEncoding: header('content-encoding'),
        topic: header('topic'),
      },
      vapid,
      body: Buffer.concat(chunks),
    });
    if (behavior.delayMs && refusal === null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, behavior.delayMs);
        timers.add(t);
      });
    }
    if (res.destroyed) return;
    res.writeHead(
      status,
      status === 201 ? { location: `${origin}/message/${randomBytes(8).toString('hex')}` } : {},
    );
    res.end(refusal ?? '');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://${host}:${port}`;
  const idOf = (endpoint: string): string => endpoint.slice(endpoint.lastIndexOf('/') + 1);

  return {
    origin,
    newEndpoint: () => `${origin}/push/${randomBytes(12).toString('base64url')}`,
    received: (endpoint) => (endpoint ? received.filter((r) => r.id === idOf(endpoint)) : [...received]),
    setBehavior: (endpoint, behavior) => {
      const key = endpoint === '*' ? '*' : idOf(endpoint);
      if (behavior === null) behaviors.delete(key);
      else behaviors.set(key, behavior);
    },
    clear: () => {
      received.length = 0;
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
