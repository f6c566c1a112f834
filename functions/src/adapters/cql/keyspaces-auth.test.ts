import cassandra from 'cassandra-driver';
import { describe, expect, it } from 'vitest';
import { extractNonce, KeyspacesSigV4AuthProvider, signChallenge } from './keyspaces-auth.ts';

// The published test vector of AWS's aws-sigv4-auth-cassandra-nodejs-driver-plugin (signing test).
const vector = {
  region: 'us-west-2',
  nonce: '91703fdc2ef562e19fbdab0f58e42fe5',
  date: new Date(1591742511000), // 2020-06-09T22:41:51.000Z
  credentials: { accessKeyId: 'UserID-1', secretAccessKey: 'UserSecretKey-1' },
  expected:
    'signature=7f3691c18a81b8ce7457699effbfae5b09b4e0714ab38c1292dbdf082c9ddd87,access_key=UserID-1,amzdate=2020-06-09T22:41:51.000Z',
};

describe('Keyspaces SigV4 authenticator', () => {
  it('signs the reference vector exactly as the AWS plugin does', () => {
    expect(signChallenge(vector)).toBe(vector.expected);
  });

  it('appends the session token of temporary credentials', () => {
    const signed = signChallenge({
      ...vector,
      credentials: { ...vector.credentials, sessionToken: 'sess-token-1' },
    });
    expect(signed).toBe(`${vector.expected},session_token=sess-token-1`);
  });

  it('extracts the nonce from a challenge, and nothing from a challenge without one', () => {
    expect(extractNonce(Buffer.from('nonce=abc123,other=x'))).toBe('abc123');
    expect(extractNonce(Buffer.from('nonce=abc123'))).toBe('abc123');
    expect(extractNonce(Buffer.from('SigV4 please'))).toBeUndefined();
  });

  it('runs the driver handshake: SigV4 initial response, then the signed answer to the challenge', async () => {
    const provider = new KeyspacesSigV4AuthProvider({
      region: vector.region,
      credentials: async () => vector.credentials,
      now: () => vector.date,
    });
    const auth = provider.newAuthenticator('cassandra.us-west-2.amazonaws.com:9142', 'com.amazonaws.SigV4');
    const initial = await new Promise<Buffer>((resolve, reject) =>
      auth.initialResponse((err: Error | null, b?: Buffer) => (err || !b ? reject(err) : resolve(b))),
    );
    expect(initial.toString('utf8')).toBe('SigV4\0\0');
    const answer = await new Promise<Buffer>((resolve, reject) =>
      auth.evaluateChallenge(Buffer.from(`nonce=${vector.nonce}`), (err: Error | null, b?: Buffer) =>
        err || !b ? reject(err) : resolve(b),
      ),
    );
    expect(answer.toString()).toBe(vector.expected);
  });

  it('is accepted by cassandra-driver as an AuthProvider', () => {
    const client = new cassandra.Client({
      contactPoints: ['cassandra.eu-west-1.amazonaws.com'],
      localDataCenter: 'eu-west-1',
      authProvider: new KeyspacesSigV4AuthProvider({ region: 'eu-west-1' }),
    });
    expect(client).toBeInstanceOf(cassandra.Client);
  });

  it('fails the handshake when the challenge has no nonce', async () => {
    const auth = new KeyspacesSigV4AuthProvider({
      region: 'eu-west-1',
      credentials: async () => vector.credentials,
    }).newAuthenticator('h', 'n');
    const err = await new Promise<Error | null>((resolve) =>
      auth.evaluateChallenge(Buffer.from('x'), resolve),
    );
    expect(err?.message).toMatch(/no nonce/);
  });
});
