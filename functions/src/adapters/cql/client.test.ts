import { afterEach, describe, expect, it } from 'vitest';
import { SecretPlainTextAuthProvider } from './client.ts';

describe('When CQL_AUTH=password without a secret ARN', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('answers the SASL PLAIN challenge with CQL_USERNAME and CQL_PASSWORD', async () => {
    process.env.CQL_SECRET_ARN = '';
    process.env.CQL_USERNAME = 'scylla';
    process.env.CQL_PASSWORD = 'pässword';
    const authenticator = new SecretPlainTextAuthProvider().newAuthenticator();
    const token = await new Promise<Buffer | undefined>((resolve, reject) =>
      authenticator.initialResponse((error: Error | null, t?: Buffer) =>
        error ? reject(error) : resolve(t),
      ),
    );
    expect(token?.toString('utf8')).toBe('\u0000scylla\u0000pässword');
  });
});
