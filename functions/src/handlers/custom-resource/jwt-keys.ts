/**
 * The JWT signing key set in Secrets Manager, for CDK:
 * - as the custom resource `Custom::JwtKeySet` (CDK Provider onEvent): on Create and Update writes a fresh key
 *   set unless the secret already holds a valid one (a retained secret keeps its keys, so tokens in flight
 *   stay valid), then publishes its public half (a JWKS) into the public secret (`PublicSecretArn`); Delete
 *   changes nothing;
 * - as the secret's rotation function (Secrets Manager's four steps): createSecret puts the rotated set
 *   (new active key, previous keys kept for verification) as AWSPENDING and publishes its public half (every
 *   verifier knows the new key before it signs anything), testSecret checks it, finishSecret makes it
 *   AWSCURRENT. setSecret has nothing to do (no external system holds the key).
 * Verifiers never read the private secret: see adapters/auth/keys.ts.
 * The document shape is the one adapters/auth/keys.ts reads: `{ activeKid, keys: [{ kid, alg, privateJwk,
 * publicJwk, createdAt }] }`.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  generateKeyRecord,
  generateKeySet,
  importKeySet,
  KeySetDocument,
  publicKeySet,
  rotateKeySet,
} from '#adapters/auth/keys.ts';
import { config } from '#platform/config.ts';
import { logger } from '#platform/log.ts';

export interface RotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
}

interface ProviderResult {
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

let client: SecretsManagerClient | undefined;
const sm = (): SecretsManagerClient => {
  client ??= new SecretsManagerClient({ region: config.awsRegion() });
  return client;
};

/** The document in a secret version, or undefined when missing or not a valid key set. */
async function readKeySet(
  secretId: string,
  stage: { VersionStage?: string; VersionId?: string },
): Promise<KeySetDocument | undefined> {
  try {
    const out = await sm().send(new GetSecretValueCommand({ SecretId: secretId, ...stage }));
    if (!out.SecretString) return undefined;
    const parsed = KeySetDocument.safeParse(JSON.parse(out.SecretString));
    return parsed.success ? parsed.data : undefined;
  } catch (e) {
    if (e instanceof ResourceNotFoundException) return undefined;
    if (e instanceof SyntaxError) return undefined;
    throw e;
  }
}

/** Writes the public half of a key set (a JWKS: no private key) as the public secret's current value. */
async function publish(publicSecretArn: string, doc: KeySetDocument): Promise<void> {
  if (!publicSecretArn) throw new Error('no public key set secret to publish to');
  await sm().send(
    new PutSecretValueCommand({ SecretId: publicSecretArn, SecretString: JSON.stringify(publicKeySet(doc)) }),
  );
  logger.info('JWT public key set published', { kids: doc.keys.map((k) => k.kid) });
}

async function onCustomResource(event: CloudFormationCustomResourceEvent): Promise<ProviderResult> {
  const secretArn = String(event.ResourceProperties.SecretArn ?? '');
  const publicSecretArn = String(event.ResourceProperties.PublicSecretArn ?? '');
  if (!secretArn || !publicSecretArn) {
    throw new Error('Custom::JwtKeySet needs the SecretArn and PublicSecretArn properties');
  }
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  let doc = await readKeySet(secretArn, { VersionStage: 'AWSCURRENT' });
  if (doc) {
    logger.info('JWT key set already present, kept', { activeKid: doc.activeKid });
  } else {
    const alg = event.ResourceProperties.Alg === 'ES256' ? 'ES256' : 'EdDSA';
    doc = await generateKeySet(alg);
    await sm().send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: JSON.stringify(doc) }));
    logger.info('JWT key set generated', { activeKid: doc.activeKid, alg });
  }
  await publish(publicSecretArn, doc);
  return { PhysicalResourceId: secretArn, Data: { ActiveKid: doc.activeKid } };
}

async function onRotation(event: RotationEvent): Promise<void> {
  const { SecretId, ClientRequestToken: token, Step } = event;
  const meta = await sm().send(new DescribeSecretCommand({ SecretId }));
  if (meta.RotationEnabled === false) throw new Error(`rotation is not enabled on ${SecretId}`);
  const stages = meta.VersionIdsToStages?.[token];
  if (!stages) throw new Error(`version ${token} is not a version of ${SecretId}`);
  if (stages.includes('AWSCURRENT') && Step !== 'finishSecret') return; // already done
  if (!stages.includes('AWSPENDING') && !stages.includes('AWSCURRENT')) {
    throw new Error(`version ${token} of ${SecretId} is not AWSPENDING`);
  }

  switch (Step) {
    case 'createSecret': {
      const already = await readKeySet(SecretId, { VersionId: token, VersionStage: 'AWSPENDING' });
      if (already) return publish(config.jwtPublicKeysSecretArn(), already);
      const current = await readKeySet(SecretId, { VersionStage: 'AWSCURRENT' });
      const next = await generateKeyRecord(current?.keys.find((k) => k.kid === current.activeKid)?.alg);
      const doc = current ? rotateKeySet(current, next) : { activeKid: next.kid, keys: [next] };
      await sm().send(
        new PutSecretValueCommand({
          SecretId,
          ClientRequestToken: token,
          SecretString: JSON.stringify(doc),
          VersionStages: ['AWSPENDING'],
        }),
      );
      logger.info('JWT key set rotation: pending version written', { activeKid: doc.activeKid });
      // The pending set holds the new key and the ones still in use: verifiers learn the new key now, before
      // finishSecret lets it sign.
      await publish(config.jwtPublicKeysSecretArn(), doc);
      return;
    }
    case 'setSecret':
      return;
    case 'testSecret': {
      const pending = await readKeySet(SecretId, { VersionId: token, VersionStage: 'AWSPENDING' });
      if (!pending) throw new Error('the pending JWT key set is missing or invalid');
      await importKeySet(pending); // every key imports, the active one has a private half
      return;
    }
    case 'finishSecret': {
      const current = Object.entries(meta.VersionIdsToStages ?? {}).find(([, s]) =>
        s.includes('AWSCURRENT'),
      )?.[0];
      if (current === token) return;
      await sm().send(
        new UpdateSecretVersionStageCommand({
          SecretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: token,
          ...(current ? { RemoveFromVersionId: current } : {}),
        }),
      );
      logger.info('JWT key set rotation finished', { version: token });
      return;
    }
  }
}

const isRotation = (e: unknown): e is RotationEvent =>
  typeof e === 'object' && e !== null && 'Step' in e && 'SecretId' in e && 'ClientRequestToken' in e;

export const handler = async (
  event: CloudFormationCustomResourceEvent | RotationEvent,
): Promise<ProviderResult | undefined> => {
  if (isRotation(event)) {
    await onRotation(event);
    return undefined;
  }
  return onCustomResource(event);
};
