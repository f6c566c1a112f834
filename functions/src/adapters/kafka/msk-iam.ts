import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { rfc3986 } from '../aws-sigv4.ts';

/**
 * Amazon MSK IAM authentication for kafkajs (SASL/OAUTHBEARER), as AWS's `aws-msk-iam-sasl-signer-js` does it:
 * the token is a SigV4-presigned URL `https://kafka.{region}.amazonaws.com/?Action=kafka-cluster:Connect`
 * (service `kafka-cluster`, valid 15 minutes), with a `User-Agent` query parameter, base64url-encoded without
 * padding. Credentials come from the default chain (the Lambda role on AWS). kafkajs calls the provider on each
 * (re)authentication, and the credential provider caches and refreshes credentials itself.
 */

const EXPIRY_SECONDS = 900;
const USER_AGENT = 'chat-functions-msk-iam/1.0';

/** Node's crypto behind the smithy Checksum interface (SHA-256, HMAC-SHA-256 when given a secret). */
class Sha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.create();
  }
  private create(): Hash | Hmac {
    if (this.secret === undefined) return createHash('sha256');
    const key =
      typeof this.secret === 'string'
        ? this.secret
        : ArrayBuffer.isView(this.secret)
          ? Buffer.from(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength)
          : Buffer.from(this.secret);
    return createHmac('sha256', key);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    if (typeof data === 'string') this.hash.update(data, 'utf8');
    else if (ArrayBuffer.isView(data))
      this.hash.update(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    else this.hash.update(Buffer.from(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.create();
  }
}

type CredentialProvider = ReturnType<typeof defaultProvider>;
let credentials: CredentialProvider | undefined;

/** A fresh MSK IAM auth token for the region (see above). */
export async function mskIamToken(
  region: string,
  options: { credentials?: CredentialProvider; signingDate?: Date } = {},
): Promise<string> {
  credentials ??= defaultProvider();
  const signer = new SignatureV4({
    service: 'kafka-cluster',
    region,
    credentials: options.credentials ?? credentials,
    sha256: Sha256,
    applyChecksum: false,
  });
  const hostname = `kafka.${region}.amazonaws.com`;
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'kafka-cluster:Connect' },
      headers: { host: hostname },
    },
    { expiresIn: EXPIRY_SECONDS, ...(options.signingDate ? { signingDate: options.signingDate } : {}) },
  );
  const query: Record<string, string | string[] | null> = { ...signed.query, 'User-Agent': USER_AGENT };
  const qs = Object.keys(query)
    .sort()
    .flatMap((k) => {
      const v = query[k];
      if (v === null || v === undefined) return [rfc3986(k)];
      return (Array.isArray(v) ? v : [v]).map((x) => `${rfc3986(k)}=${rfc3986(x)}`);
    })
    .join('&');
  const url = `https://${hostname}/?${qs}`;
  return Buffer.from(url, 'utf8').toString('base64url');
}

/** kafkajs `sasl` option for MSK IAM. */
export const mskIamSasl = (region: string) => ({
  mechanism: 'oauthbearer' as const,
  oauthBearerProvider: async () => ({ value: await mskIamToken(region) }),
});
