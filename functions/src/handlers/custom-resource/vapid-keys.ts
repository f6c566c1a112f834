/**
 * Custom resource `Custom::VapidKeys` (CDK Provider onEvent, issue 15): the Web Push VAPID key pair in Secrets
 * Manager, generated at deploy time like the JWT keys. Create (or Update of the secret) writes a fresh pair
 * `{ publicKey, privateKey }` unless the secret already holds a valid one: a retained secret keeps its keys, so
 * the browsers' subscriptions (bound to the public key) stay valid. Returns the public key as `PublicKey` (the
 * site's config.json carries it). Delete changes nothing. No rotation: a new key would silently invalidate every
 * subscription (docs/adr/0010-web-push.md).
 */
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import webpush from 'web-push';
import { VapidKeys } from '#adapters/web-push.ts';
import { config } from '#platform/config.ts';
import { logger } from '#platform/log.ts';

let client: SecretsManagerClient | undefined;
const sm = (): SecretsManagerClient => {
  client ??= new SecretsManagerClient({ region: config.awsRegion() });
  return client;
};

async function readKeys(secretId: string): Promise<VapidKeys | undefined> {
  try {
    const out = await sm().send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!out.SecretString) return undefined;
    const parsed = VapidKeys.safeParse(JSON.parse(out.SecretString));
    return parsed.success ? parsed.data : undefined;
  } catch (e) {
    if (e instanceof ResourceNotFoundException || e instanceof SyntaxError) return undefined;
    throw e;
  }
}

export const handler = async (
  event: CloudFormationCustomResourceEvent,
): Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }> => {
  const secretArn = String(event.ResourceProperties.SecretArn ?? '');
  if (!secretArn) throw new Error('Custom::VapidKeys needs the SecretArn property');
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const existing = await readKeys(secretArn);
  if (existing) {
    logger.info('VAPID keys already present, kept');
    return { PhysicalResourceId: secretArn, Data: { PublicKey: existing.publicKey } };
  }
  const keys = webpush.generateVAPIDKeys();
  await sm().send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: JSON.stringify(keys) }));
  logger.info('VAPID keys generated');
  return { PhysicalResourceId: secretArn, Data: { PublicKey: keys.publicKey } };
};
