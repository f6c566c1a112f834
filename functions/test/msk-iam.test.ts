/**
 * The MSK IAM SASL/OAUTHBEARER token: a SigV4-presigned `kafka-cluster:Connect` URL, base64url. The signature is
 * checked against an independent SigV4 computation (node:crypto only) for fixed credentials and time.
 */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mskIamToken } from '#adapters/kafka/msk-iam.ts';

const credentials = async () => ({
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
});
const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

describe('mskIamToken', () => {
  it('is a base64url presigned kafka-cluster:Connect URL whose SigV4 signature verifies', async () => {
    const signingDate = new Date('2024-05-01T12:34:56Z');
    const token = await mskIamToken('eu-west-1', { credentials, signingDate });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    const url = new URL(Buffer.from(token, 'base64url').toString('utf8'));
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('kafka.eu-west-1.amazonaws.com');
    const q = url.searchParams;
    expect(q.get('Action')).toBe('kafka-cluster:Connect');
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20240501/eu-west-1/kafka-cluster/aws4_request');
    expect(q.get('X-Amz-Date')).toBe('20240501T123456Z');
    expect(q.get('X-Amz-Expires')).toBe('900');
    expect(q.get('X-Amz-SignedHeaders')).toBe('host');
    expect(q.get('User-Agent')).toBeTruthy();

    // Independent SigV4 (query) computation.
    const signed = [...q.entries()].filter(([k]) => k !== 'X-Amz-Signature' && k !== 'User-Agent');
    const canonicalQuery = signed
      .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const emptyHash = createHash('sha256').update('').digest('hex');
    const canonicalRequest = [
      'GET',
      '/',
      canonicalQuery,
      'host:kafka.eu-west-1.amazonaws.com',
      '',
      'host',
      emptyHash,
    ].join('\n');
    const scope = '20240501/eu-west-1/kafka-cluster/aws4_request';
    const stringToSign = [
      'AWS4-HMAC-SHA256',
      '20240501T123456Z',
      scope,
      createHash('sha256').update(canonicalRequest).digest('hex'),
    ].join('\n');
    const key = hmac(
      hmac(
        hmac(hmac('AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20240501'), 'eu-west-1'),
        'kafka-cluster',
      ),
      'aws4_request',
    );
    expect(q.get('X-Amz-Signature')).toBe(createHmac('sha256', key).update(stringToSign).digest('hex'));
  });
});
