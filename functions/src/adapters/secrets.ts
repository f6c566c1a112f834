import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { config } from '#platform/config.ts';

/**
 * Secrets Manager reads, one client per execution environment. Callers decide how long to keep a value:
 * Kafka and CQL credentials live as long as the client they configure; the JWT key set refreshes itself.
 */
let client: SecretsManagerClient | undefined;

export async function readSecretString(arn: string): Promise<string> {
  client ??= new SecretsManagerClient({ region: config.awsRegion() });
  const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  if (!out.SecretString) throw new Error('the secret has no SecretString');
  return out.SecretString;
}

/** A `{ "username": …, "password": … }` secret (Kafka SCRAM, ScyllaDB); `mechanism` is optional. */
export async function readCredentials(
  arn: string,
  what: string,
): Promise<{ username: string; password: string; mechanism?: string }> {
  const { username, password, mechanism } = JSON.parse(await readSecretString(arn)) as Record<
    string,
    unknown
  >;
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw new Error(`the ${what} secret must be JSON { "username": …, "password": … }`);
  }
  return { username, password, ...(typeof mechanism === 'string' ? { mechanism } : {}) };
}
