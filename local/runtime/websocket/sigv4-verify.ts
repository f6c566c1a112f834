/**
 * SigV4 verification of `@connections` requests, for the credentials the runtime itself hands to its execution
 * environments: a function that signs wrongly gets 403 here as it would on AWS. Requests signed with any other
 * access key (a developer's script, the SDK tests' dummy keys) are only checked for being signed, as before:
 * the emulator cannot know their secrets.
 *
 * Written from the SigV4 specification (canonical request, string to sign, derived key), independently of the
 * functions' own signer, so that the two check each other.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface KnownCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export type Verdict =
  | { readonly ok: true; readonly verified: boolean }
  | { readonly ok: false; readonly errorType: string; readonly message: string };

const pctEncode = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Non-S3 services: normalize the path, then percent-encode every (already encoded) segment once more. */
function canonicalUri(rawPath: string): string {
  const out: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '..') out.pop();
    else if (segment !== '' && segment !== '.') out.push(pctEncode(segment));
  }
  const trailing = rawPath.endsWith('/') && out.length > 0 ? '/' : '';
  return `/${out.join('/')}${trailing}`;
}

function canonicalQuery(rawQuery: string): string {
  if (!rawQuery) return '';
  const pairs = [...new URLSearchParams(rawQuery)].map(([k, v]) => [pctEncode(k), pctEncode(v)] as const);
  pairs.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

const headerValue = (headers: IncomingHttpHeaders, name: string): string => {
  const v = headers[name];
  const joined = Array.isArray(v) ? v.join(',') : (v ?? '');
  return joined.trim().replace(/\s+/g, ' ');
};

/**
 * Signing keys by (secret, date, region, service): the key changes once a day, so AWS clients (the SDK's
 * signer, the functions' own client) derive it once and reuse it; so does the verifier. A handful of entries at
 * most (one scope per day); cleared when it grows past a bound.
 */
const signingKeys = new Map<string, Buffer>();
const SIGNING_KEYS_MAX = 32;

function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  const id = `${secret}\n${day}\n${region}\n${service}`;
  let key = signingKeys.get(id);
  if (key) return key;
  key = createHmac('sha256', `AWS4${secret}`).update(day).digest();
  for (const part of [region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  if (signingKeys.size >= SIGNING_KEYS_MAX) signingKeys.clear();
  signingKeys.set(id, key);
  return key;
}

/** Checks the `Authorization` header of a request whose body has been read. */
export function verifySigV4(
  req: { method: string; url: string; headers: IncomingHttpHeaders },
  body: Buffer,
  known: KnownCredentials,
  region: string,
  now: Date = new Date(),
): Verdict {
  const auth = req.headers.authorization ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^, ]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) {
    return {
      ok: false,
      errorType: 'IncompleteSignatureException',
      message: 'Authorization header requires Credential, SignedHeaders and Signature.',
    };
  }
  const [, keyId, day, scopeRegion, service, signedHeaders, signature] = m as unknown as string[];
  if (keyId !== known.accessKeyId) return { ok: true, verified: false };
  const amzDate = headerValue(req.headers, 'x-amz-date');
  const at = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!at || amzDate.slice(0, 8) !== day) {
    return { ok: false, errorType: 'IncompleteSignatureException', message: 'Invalid X-Amz-Date.' };
  }
  const [, y = 0, mo = 1, d = 0, h = 0, mi = 0, se = 0] = at.map(Number);
  const signedAt = Date.UTC(y, mo - 1, d, h, mi, se);
  if (Math.abs(now.getTime() - signedAt) > 5 * 60_000) {
    return {
      ok: false,
      errorType: 'InvalidSignatureException',
      message: 'Signature expired: the request time is more than 5 minutes from the server time.',
    };
  }
  if (scopeRegion !== region || service !== 'execute-api') {
    return {
      ok: false,
      errorType: 'InvalidSignatureException',
      message: `Credential should be scoped to a valid region and to execute-api, not '${scopeRegion}/${service}'.`,
    };
  }
  const names = (signedHeaders as string).split(';');
  if (!names.includes('host')) {
    return { ok: false, errorType: 'InvalidSignatureException', message: "'Host' must be a signed header." };
  }
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const canonicalRequest = [
    req.method,
    canonicalUri(rawPath),
    canonicalQuery(q < 0 ? '' : req.url.slice(q + 1)),
    names.map((n) => `${n}:${headerValue(req.headers, n)}\n`).join(''),
    signedHeaders,
    headerValue(req.headers, 'x-amz-content-sha256') || createHash('sha256').update(body).digest('hex'),
  ].join('\n');
  const scope = `${day}/${scopeRegion}/${service}/aws4_request`;
  const toSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const key = signingKey(known.secretAccessKey, day as string, scopeRegion as string, service as string);
  const expected = createHmac('sha256', key).update(toSign).digest();
  const given = Buffer.from(signature as string, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return {
      ok: false,
      errorType: 'InvalidSignatureException',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    };
  }
  return { ok: true, verified: true };
}
