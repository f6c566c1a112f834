/** The push service emulator (issue 15): what it refuses of VAPID, what it records, how it can be told to answer. */
import { createECDH, createPrivateKey, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkVapid, type PushServiceEmulator, startPushService } from './push-service.ts';

const ecdh = createECDH('prime256v1');
ecdh.generateKeys();
const pub = ecdh.getPublicKey();
const k = pub.toString('base64url');
const privateKey = createPrivateKey({
  key: {
    kty: 'EC',
    crv: 'P-256',
    x: pub.subarray(1, 33).toString('base64url'),
    y: pub.subarray(33, 65).toString('base64url'),
    d: ecdh.getPrivateKey().toString('base64url'),
  },
  format: 'jwk',
});

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
function vapid(claims: Record<string, unknown>, key = k, alg = 'ES256'): string {
  const signing = `${b64({ typ: 'JWT', alg })}.${b64(claims)}`;
  const sig = sign('sha256', Buffer.from(signing), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `vapid t=${signing}.${sig.toString('base64url')}, k=${key}`;
}

const now = Math.floor(Date.now() / 1000);
const origin = 'http://127.0.0.1:9999';
const good = { aud: origin, exp: now + 3600, sub: 'mailto:ops@example.org' };

describe('checkVapid', () => {
  it('accepts a valid token and returns its claims', () => {
    expect(checkVapid(vapid(good), origin, now)).toEqual({ ...good, k });
  });
  it.each([
    ['the wrong audience', vapid({ ...good, aud: 'https://fcm.googleapis.com' }), /aud/],
    ['an expired token', vapid({ ...good, exp: now - 1 }), /expired/],
    ['an expiry over 24 h away', vapid({ ...good, exp: now + 24 * 3600 + 60 }), /24 h/],
    ['no sub', vapid({ aud: origin, exp: now + 60 }), /sub/],
    [
      'another key than the signer',
      vapid(good, createECDH('prime256v1').generateKeys().toString('base64url')),
      /signature/,
    ],
    ['another alg', vapid(good, k, 'HS256'), /ES256/],
    ['no header', undefined, /Authorization/],
    ['a bearer token', 'Bearer abc', /Authorization/],
  ])('refuses %s', (_what, header, reason) => {
    expect(() => checkVapid(header, origin, now)).toThrow(reason);
  });
});

describe('the emulator over HTTP', () => {
  let push: PushServiceEmulator;
  beforeAll(async () => {
    push = await startPushService();
  });
  afterAll(() => push.close());

  const post = (endpoint: string, auth: string, headers: Record<string, string> = {}) =>
    fetch(endpoint, {
      method: 'POST',
      headers: { authorization: auth, 'content-encoding': 'aes128gcm', ttl: '60', ...headers },
      body: Buffer.from('ciphertext'),
    });

  it('201 for a valid push, 403 for a bad token or a missing header, each recorded', async () => {
    const endpoint = push.newEndpoint();
    const token = vapid({ ...good, aud: push.origin });
    expect((await post(endpoint, token)).status).toBe(201);
    expect((await post(endpoint, vapid(good))).status).toBe(403);
    expect((await post(endpoint, token, { 'content-encoding': 'aesgcm' })).status).toBe(403);
    const got = push.received(endpoint);
    expect(got.map((r) => [r.status, r.refusal])).toEqual([
      [201, null],
      [403, expect.stringContaining('aud')],
      [403, expect.stringContaining('aes128gcm')],
    ]);
    expect(got[0]?.body.toString()).toBe('ciphertext');
    expect(got[0]?.headers.ttl).toBe('60');
  });

  it('answers as told per endpoint or for all, and can be slow', async () => {
    const [a, b] = [push.newEndpoint(), push.newEndpoint()];
    const token = vapid({ ...good, aud: push.origin });
    push.setBehavior(a, { status: 410 });
    expect((await post(a, token)).status).toBe(410);
    expect((await post(b, token)).status).toBe(201);
    push.setBehavior('*', { status: 500 });
    expect((await post(b, token)).status).toBe(500);
    push.setBehavior('*', { delayMs: 300 });
    const started = Date.now();
    expect((await post(b, token)).status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    push.setBehavior('*', null);
    push.setBehavior(a, null);
    expect((await post(a, token)).status).toBe(201);
  });
});
