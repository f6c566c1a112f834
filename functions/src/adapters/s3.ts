/**
 * A lean S3 client: SigV4 query-string presigning (node:crypto; docs/adr/0009-attachments.md) and the few
 * object and bucket calls the attachments need, each made by fetching a URL presigned for a minute.
 *
 * Why not `@aws-sdk/client-s3` + `@aws-sdk/s3-request-presigner`: they would add several hundred KB to three
 * bundles (the send path's among them) for what is one HMAC chain; the project already signs the management API
 * and Keyspaces this way (aws-sigv4.ts). The canonical request is the one AWS documents for presigned URLs
 * ("Authenticating Requests: Using Query Parameters"); s3.test.ts checks it against `@smithy/signature-v4`.
 *
 * Addressing: path style (`{endpoint}/{bucket}/{key}`) unless the endpoint's host starts with `{bucket}.`
 * (virtual-hosted, as CDK sets it on AWS: `https://{bucket}.s3.{region}.amazonaws.com`).
 */
import { createHash } from 'node:crypto';
import { type AwsCredentials, type CredentialsProvider, hmac, rfc3986, sha256Hex } from './aws-sigv4.ts';

export interface S3Target {
  /** `http://127.0.0.1:9000` (local, path style) or `https://{bucket}.s3.{region}.amazonaws.com`. */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly credentials: CredentialsProvider;
}

export interface PresignOptions {
  readonly method: 'GET' | 'PUT' | 'HEAD' | 'DELETE' | 'POST';
  /** Object key ('' for the bucket itself). */
  readonly key: string;
  readonly expiresSeconds: number;
  /** Headers the request must carry exactly (signed); names in any case. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Extra query parameters (signed), e.g. `response-content-disposition`, `list-type`. */
  readonly query?: Readonly<Record<string, string>>;
  readonly now?: Date;
}

/** Each key segment escaped, `/` kept (S3 does not escape the path twice). */
const encodeKey = (key: string): string => key.split('/').map(rfc3986).join('/');

/** The URL of a key (or of the bucket for key ''), path style or virtual-hosted. */
export function objectUrl(target: Pick<S3Target, 'endpoint' | 'bucket'>, key: string): URL {
  const base = new URL(target.endpoint);
  const virtual = target.bucket !== '' && base.hostname.startsWith(`${target.bucket}.`);
  const prefix = base.pathname.replace(/\/+$/, '');
  const parts = [
    ...(virtual || target.bucket === '' ? [] : [target.bucket]),
    ...(key === '' ? [] : [encodeKey(key)]),
  ];
  return new URL(`${base.protocol}//${base.host}${prefix}/${parts.join('/')}`);
}

/** A presigned URL: SigV4 in the query string, payload `UNSIGNED-PAYLOAD`, `host` and `headers` signed. */
export function presignWith(
  target: Pick<S3Target, 'endpoint' | 'bucket' | 'region'>,
  credentials: AwsCredentials,
  opts: PresignOptions,
): string {
  const url = objectUrl(target, opts.key);
  const now = opts.now ?? new Date();
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${target.region}/s3/aws4_request`;
  const headers = new Map<string, string>([['host', url.host]]);
  for (const [k, v] of Object.entries(opts.headers ?? {}))
    headers.set(k.toLowerCase(), String(v).trim().replace(/\s+/g, ' '));
  const names = [...headers.keys()].sort();
  const signedHeaders = names.join(';');
  const query: [string, string][] = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(Math.max(1, Math.min(604_800, Math.floor(opts.expiresSeconds))))],
    ['X-Amz-SignedHeaders', signedHeaders],
    ...(credentials.sessionToken
      ? ([['X-Amz-Security-Token', credentials.sessionToken]] as [string, string][])
      : []),
    ...Object.entries(opts.query ?? {}),
  ];
  const canonicalQuery = query
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = [
    opts.method,
    url.pathname,
    canonicalQuery,
    names.map((n) => `${n}:${headers.get(n)}\n`).join(''),
    signedHeaders,
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), target.region), 's3'),
    'aws4_request',
  );
  const signature = hmac(key, stringToSign).toString('hex');
  return `${url.origin}${url.pathname}?${canonicalQuery}&X-Amz-Signature=${signature}`;
}

/** Presigns with the target's current credentials. */
export async function presign(target: S3Target, opts: PresignOptions): Promise<string> {
  return presignWith(target, await target.credentials(), opts);
}

/** An S3 call that answered with an unexpected status. */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    // 5xx (InternalError, SlowDown, ServiceUnavailable): an outage (adapters/outage.ts), retried by the client.
    this.name = status >= 500 ? 'S3Unavailable' : 'S3Error';
  }
}

const errorOf = async (res: Response, what: string): Promise<S3Error> => {
  const text = await res.text().catch(() => '');
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? String(res.status);
  return new S3Error(res.status, code, `S3 ${what}: ${res.status} ${code}`);
};

async function call(
  target: S3Target,
  opts: Omit<PresignOptions, 'expiresSeconds'> & { body?: string; timeoutMs?: number },
): Promise<Response> {
  const url = await presign(target, { ...opts, expiresSeconds: 60 });
  return fetch(url, {
    method: opts.method,
    headers: opts.headers ?? {},
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
  });
}

export interface ObjectHead {
  readonly size: number;
  readonly contentType: string;
}

/** Size and content type of an object, or null when there is none. */
export async function headObject(target: S3Target, key: string): Promise<ObjectHead | null> {
  const res = await call(target, { method: 'HEAD', key });
  if (res.status === 404) return null;
  if (!res.ok) throw await errorOf(res, `HEAD ${key}`);
  return {
    size: Number(res.headers.get('content-length') ?? -1),
    contentType: res.headers.get('content-type') ?? '',
  };
}

/** Server-side copy within the bucket (content type and metadata kept). */
export async function copyObject(target: S3Target, from: string, to: string): Promise<void> {
  const res = await call(target, {
    method: 'PUT',
    key: to,
    headers: { 'x-amz-copy-source': `/${target.bucket}/${encodeKey(from)}` },
    timeoutMs: 60_000,
  });
  const text = await res.text();
  // S3 can answer 200 with an error document for a copy that failed late.
  if (!res.ok || text.includes('<Error>'))
    throw new S3Error(res.status, 'CopyFailed', `S3 copy ${from}: ${res.status}`);
}

/** Deletes an object (no error when it is already gone). */
export async function deleteObject(target: S3Target, key: string): Promise<void> {
  const res = await call(target, { method: 'DELETE', key });
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok && res.status !== 404) throw await errorOf(res, `DELETE ${key}`);
}

export interface ListedObject {
  readonly key: string;
  readonly lastModified: Date;
  readonly size: number;
}

const unxml = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** Objects under a prefix (ListObjectsV2, every page, at most `max`). */
export async function listObjects(target: S3Target, prefix: string, max = 10_000): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    const res = await call(target, {
      method: 'GET',
      key: '',
      query: { 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) },
    });
    if (!res.ok) throw await errorOf(res, `LIST ${prefix}`);
    const xml = await res.text();
    for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
      const body = m[1] ?? '';
      const key = /<Key>([\s\S]*?)<\/Key>/.exec(body)?.[1];
      if (key === undefined) continue;
      out.push({
        key: unxml(key),
        lastModified: new Date(/<LastModified>([^<]+)<\/LastModified>/.exec(body)?.[1] ?? 0),
        size: Number(/<Size>(\d+)<\/Size>/.exec(body)?.[1] ?? 0),
      });
    }
    token = /<IsTruncated>true<\/IsTruncated>/.test(xml)
      ? unxml(/<NextContinuationToken>([^<]+)<\/NextContinuationToken>/.exec(xml)?.[1] ?? '')
      : undefined;
  } while (token && out.length < max);
  return out.slice(0, max);
}

// ── Bucket set-up (the local runtime; on AWS the CDK app owns the bucket) ─────────────────────────────────

/** Creates the bucket; an existing bucket of ours is fine. */
export async function createBucket(target: S3Target): Promise<'created' | 'existing'> {
  const res = await call(target, { method: 'PUT', key: '' });
  const text = await res.text();
  if (res.ok) return 'created';
  if (res.status === 409 && text.includes('BucketAlreadyOwnedByYou')) return 'existing';
  throw new S3Error(
    res.status,
    /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? '',
    `S3 create bucket: ${res.status}`,
  );
}

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The bucket's CORS: browsers of `origins` may PUT (upload) and GET (download), as the CDK bucket allows. */
export async function putBucketCors(target: S3Target, origins: readonly string[]): Promise<void> {
  const body =
    '<CORSConfiguration><CORSRule>' +
    origins.map((o) => `<AllowedOrigin>${escapeXml(o)}</AllowedOrigin>`).join('') +
    '<AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>' +
    '<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3600</MaxAgeSeconds>' +
    '</CORSRule></CORSConfiguration>';
  const md5 = createHash('md5').update(body).digest('base64');
  const res = await call(target, {
    method: 'PUT',
    key: '',
    query: { cors: '' },
    headers: { 'content-md5': md5, 'content-type': 'application/xml' },
    body,
  });
  if (!res.ok) throw await errorOf(res, 'PUT cors');
  await res.arrayBuffer().catch(() => undefined);
}

/** Deletes every object, then the bucket (a fresh local deployment's clean-up). */
export async function deleteBucket(target: S3Target): Promise<void> {
  for (const o of await listObjects(target, '')) await deleteObject(target, o.key);
  const res = await call(target, { method: 'DELETE', key: '' });
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok && res.status !== 404) throw await errorOf(res, 'DELETE bucket');
}

/** Lists buckets (the services manager's health probe: a signed round trip). */
export async function listBuckets(
  endpoint: string,
  region: string,
  credentials: AwsCredentials,
): Promise<Response> {
  const url = presignWith({ endpoint, bucket: '', region }, credentials, {
    method: 'GET',
    key: '',
    expiresSeconds: 60,
  });
  return fetch(url, { signal: AbortSignal.timeout(3000) });
}
