/**
 * SigV4 authentication for cassandra-driver against Amazon Keyspaces, written to the protocol of AWS's
 * `aws-sigv4-auth-cassandra-plugin` (same canonical request, same response format), without its dependency on
 * the end-of-life AWS SDK v2 and with credentials read per handshake (so rotated role credentials are used):
 *
 * 1. initial response `SigV4\0\0`;
 * 2. the server's challenge carries `nonce=<nonce>`;
 * 3. the answer is `signature=<hex>,access_key=<id>,amzdate=<ISO time>[,session_token=<token>]`, where the
 *    signature is SigV4 (service `cassandra`) over the canonical request
 *    `PUT /authenticate` with the X-Amz-* query, header `host:cassandra`, and payload hash = SHA-256(nonce).
 *
 * Importing this module registers the provider with the CQL client (CQL_AUTH=sigv4). Only for Keyspaces:
 * local Cassandra/ScyllaDB nodes do not speak this authenticator.
 */
import { createHmac } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { config } from '#platform/config.ts';
import {
  type AwsCredentials,
  type CredentialsProvider,
  defaultCredentials,
  hmac,
  sha256Hex,
} from '../aws-sigv4.ts';
import { registerSigV4AuthProvider } from './client.ts';

export type { AwsCredentials, CredentialsProvider };
export { defaultCredentials };

const SERVICE = 'cassandra';
const ALGORITHM = 'AWS4-HMAC-SHA256';

/** The `nonce=` value of a Keyspaces SigV4 challenge, or undefined. */
export function extractNonce(challenge: Buffer | string): string | undefined {
  const text = challenge.toString();
  const at = text.indexOf('nonce=');
  if (at < 0) return undefined;
  const nonce = text.slice(at + 'nonce='.length).split(',')[0];
  return nonce ? nonce : undefined;
}

/** The answer to a challenge: `signature=…,access_key=…,amzdate=…[,session_token=…]`. */
export function signChallenge(opts: {
  readonly region: string;
  readonly nonce: string;
  readonly date: Date;
  readonly credentials: AwsCredentials;
}): string {
  const { region, nonce, date, credentials } = opts;
  const amzDate = date.toISOString();
  const day = amzDate.slice(0, 10).replaceAll('-', '');
  const scope = `${day}/${region}/${SERVICE}/aws4_request`;
  const query = [
    `X-Amz-Algorithm=${ALGORITHM}`,
    `X-Amz-Credential=${credentials.accessKeyId}%2F${encodeURIComponent(scope)}`,
    `X-Amz-Date=${encodeURIComponent(amzDate)}`,
    'X-Amz-Expires=900',
  ]
    .sort()
    .join('&');
  const canonicalRequest = `PUT\n/authenticate\n${query}\nhost:${SERVICE}\n\nhost\n${sha256Hex(nonce)}`;
  const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  const key = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), SERVICE),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  const parts = [`signature=${signature}`, `access_key=${credentials.accessKeyId}`, `amzdate=${amzDate}`];
  if (credentials.sessionToken) parts.push(`session_token=${credentials.sessionToken}`);
  return parts.join(',');
}

type Callback = (err: Error | null, response?: Buffer) => void;

// The driver's typings declare these as interfaces, but it checks `instanceof auth.AuthProvider` at run time:
// extend the real classes.
const runtimeAuth = cassandra.auth as unknown as {
  Authenticator: new () => cassandra.auth.Authenticator;
  AuthProvider: new () => cassandra.auth.AuthProvider;
};
const AuthenticatorBase = runtimeAuth.Authenticator;
const AuthProviderBase = runtimeAuth.AuthProvider;

class KeyspacesSigV4Authenticator extends AuthenticatorBase {
  constructor(
    private readonly region: string,
    private readonly credentials: CredentialsProvider,
    private readonly now: () => Date,
  ) {
    super();
  }

  override initialResponse(callback: Callback): void {
    callback(null, Buffer.from('SigV4\0\0', 'utf8'));
  }

  override evaluateChallenge(challenge: Buffer, callback: Callback): void {
    const nonce = extractNonce(challenge);
    if (!nonce) {
      callback(new Error('Keyspaces SigV4: no nonce in the server challenge'));
      return;
    }
    this.credentials().then(
      (credentials) =>
        callback(
          null,
          Buffer.from(signChallenge({ region: this.region, nonce, date: this.now(), credentials })),
        ),
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
    );
  }

  override onAuthenticationSuccess(): void {}
}

export interface KeyspacesAuthOptions {
  /** The Keyspaces Region (SigV4 is Region-scoped). @default AWS_REGION */
  readonly region?: string;
  /** @default defaultCredentials */
  readonly credentials?: CredentialsProvider;
  /** Clock, for tests. */
  readonly now?: () => Date;
}

export class KeyspacesSigV4AuthProvider extends AuthProviderBase {
  private readonly region: string;
  private readonly credentials: CredentialsProvider;
  private readonly now: () => Date;

  constructor(opts: KeyspacesAuthOptions = {}) {
    super();
    this.region = opts.region ?? config.awsRegion();
    this.credentials = opts.credentials ?? defaultCredentials;
    this.now = opts.now ?? (() => new Date());
  }

  override newAuthenticator(_endpoint?: string, _name?: string): cassandra.auth.Authenticator {
    return new KeyspacesSigV4Authenticator(this.region, this.credentials, this.now);
  }
}

registerSigV4AuthProvider(() => new KeyspacesSigV4AuthProvider());
