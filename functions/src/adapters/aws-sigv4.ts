/**
 * What the SigV4 signers of the adapters share (Keyspaces auth, the management API client, MSK IAM): the
 * credentials of this execution environment, and the hashing and RFC 3986 encoding primitives.
 */
import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}
export type CredentialsProvider = () => Promise<AwsCredentials>;

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
export const hmac = (key: string | Buffer, data: string): Buffer =>
  createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding, as SigV4 and the SDK's URL formatter use it. */
export const rfc3986 = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Credentials of this execution environment: the role's, from the variables Lambda sets (read per call, so
 * nothing stale is kept); elsewhere the SDK's default chain (profile, SSO, IMDS…), loaded on first use and
 * refreshed five minutes before it expires.
 */
let chained: Promise<AwsCredentials> | undefined;
export const defaultCredentials: CredentialsProvider = async () => {
  const { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: token } = process.env;
  if (id && secret)
    return { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) };
  const cached = chained ? await chained.catch(() => undefined) : undefined;
  if (cached && (!cached.expiration || cached.expiration.getTime() - Date.now() > 5 * 60_000)) return cached;
  chained = import('@aws-sdk/credential-provider-node').then(({ defaultProvider }) => defaultProvider()());
  return chained;
};
