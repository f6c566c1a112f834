/**
 * The lean S3 presigner against the AWS SDK's signer (`@smithy/signature-v4`, configured as
 * `@aws-sdk/s3-request-presigner` configures it: service s3, no double path escaping, payload UNSIGNED-PAYLOAD,
 * here without the optional `X-Amz-Content-Sha256` query parameter): for the same request, credentials and
 * clock, the same query string and signature. The real local S3 server checks
 * them too (functions/test/attachments.e2e.test.ts).
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { objectUrl, presignWith } from './s3.ts';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session/token+with=odd chars',
};
const when = new Date('2026-11-27T10:11:12.345Z');

async function sdkPresign(
  url: URL,
  method: string,
  headers: Record<string, string>,
  query: Record<string, string>,
  creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): Promise<URLSearchParams> {
  const signer = new SignatureV4({
    service: 's3',
    region: 'eu-west-1',
    credentials: creds,
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.presign(
    {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: decodeURIComponent(url.pathname).split('/').map(encodeURIComponent).join('/'),
      query: { ...query },
      headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...headers },
    },
    {
      expiresIn: 900,
      signingDate: when,
      unhoistableHeaders: new Set([...Object.keys(headers), 'x-amz-content-sha256']),
      unsignableHeaders: new Set(['x-amz-content-sha256']),
    },
  );
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(signed.query ?? {})) out.set(k, String(v));
  return out;
}

const bytes = (d: string | ArrayBuffer | ArrayBufferView): string | Buffer =>
  typeof d === 'string'
    ? d
    : ArrayBuffer.isView(d)
      ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
      : Buffer.from(d);

/** The SDK's Checksum interface over node:crypto (SHA-256, HMAC-SHA-256 with a secret). */
class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

const params = (url: string) => new URL(url).searchParams;

describe('When an S3 URL is presigned', () => {
  for (const [label, creds] of [
    ['with a session token', credentials],
    ['without one', { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey }],
  ] as const) {
    it(`signs a PUT binding content type and length as the SDK does (${label})`, async () => {
      const target = {
        endpoint: 'https://my-bucket.s3.eu-west-1.amazonaws.com',
        bucket: 'my-bucket',
        region: 'eu-west-1',
      };
      const key = 'pending/conv 1/01ARZ3NDEKTSV4RRFFQ69G5FAV';
      const headers = { 'content-type': 'application/pdf', 'content-length': '70000' };
      const mine = presignWith(target, creds, {
        method: 'PUT',
        key,
        expiresSeconds: 900,
        headers,
        now: when,
      });
      const url = new URL(mine);
      expect(url.host).toBe('my-bucket.s3.eu-west-1.amazonaws.com');
      expect(url.pathname).toBe('/pending/conv%201/01ARZ3NDEKTSV4RRFFQ69G5FAV');
      const sdk = await sdkPresign(url, 'PUT', headers, {}, creds);
      expect(Object.fromEntries(params(mine))).toEqual(Object.fromEntries(sdk));
      expect(params(mine).get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');
      expect(params(mine).get('X-Amz-Signature')).toBe(sdk.get('X-Amz-Signature'));
      expect(params(mine).get('X-Amz-Credential')).toBe(sdk.get('X-Amz-Credential'));
    });
  }

  it('signs a GET with response overrides (path style) as the SDK does', async () => {
    const target = { endpoint: 'http://127.0.0.1:9000', bucket: 'chat-attachments', region: 'eu-west-1' };
    const query = {
      'response-content-disposition': `attachment; filename="a b.pdf"; filename*=UTF-8''a%20b.pdf`,
      'response-content-type': 'application/pdf',
    };
    const mine = presignWith(target, credentials, {
      method: 'GET',
      key: 'attachments/c/01ARZ3NDEKTSV4RRFFQ69G5FAV',
      expiresSeconds: 900,
      query,
      now: when,
    });
    expect(new URL(mine).pathname).toBe('/chat-attachments/attachments/c/01ARZ3NDEKTSV4RRFFQ69G5FAV');
    const sdk = await sdkPresign(new URL(mine), 'GET', {}, query, credentials);
    expect(params(mine).get('X-Amz-Signature')).toBe(sdk.get('X-Amz-Signature'));
    expect(params(mine).get('response-content-disposition')).toBe(query['response-content-disposition']);
  });

  it('addresses path style unless the endpoint is the bucket host', () => {
    expect(objectUrl({ endpoint: 'http://127.0.0.1:9000', bucket: 'b' }, 'k/x').href).toBe(
      'http://127.0.0.1:9000/b/k/x',
    );
    expect(objectUrl({ endpoint: 'http://127.0.0.1:9000', bucket: 'b' }, '').href).toBe(
      'http://127.0.0.1:9000/b',
    );
    expect(objectUrl({ endpoint: 'https://b.s3.eu-west-1.amazonaws.com', bucket: 'b' }, 'k').href).toBe(
      'https://b.s3.eu-west-1.amazonaws.com/k',
    );
    expect(objectUrl({ endpoint: 'http://127.0.0.1:9000', bucket: '' }, '').href).toBe(
      'http://127.0.0.1:9000/',
    );
  });
});
