import { randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeySetDocument, PublicKeySetDocument } from '#adapters/auth/keys.ts';
import { handler } from './jwt-keys.ts';

/** An in-memory Secrets Manager secret with versions and stages (pure unit test of the deploy-time logic). */
class FakeSecret {
  versions = new Map<string, { value: string; stages: string[] }>();
  rotationEnabled = true;

  put(value: string, token: string = randomUUID(), stages = ['AWSCURRENT']): string {
    for (const stage of stages)
      for (const v of this.versions.values()) v.stages = v.stages.filter((s) => s !== stage);
    this.versions.set(token, { value, stages: [...stages] });
    return token;
  }
  stageOf(stage: string): { id: string; value: string } | undefined {
    for (const [id, v] of this.versions) if (v.stages.includes(stage)) return { id, value: v.value };
    return undefined;
  }
  send(command: unknown): unknown {
    if (command instanceof GetSecretValueCommand) {
      const { VersionId, VersionStage } = command.input;
      const found = VersionId
        ? this.versions.get(VersionId)
        : [...this.versions.values()].find((v) => v.stages.includes(VersionStage ?? 'AWSCURRENT'));
      if (!found || (VersionStage && !found.stages.includes(VersionStage))) {
        throw new ResourceNotFoundException({ message: 'no such version', $metadata: {} });
      }
      return { SecretString: found.value };
    }
    if (command instanceof PutSecretValueCommand) {
      const { ClientRequestToken, SecretString, VersionStages } = command.input;
      this.put(SecretString ?? '', ClientRequestToken, VersionStages ?? ['AWSCURRENT']);
      return {};
    }
    if (command instanceof DescribeSecretCommand) {
      return {
        RotationEnabled: this.rotationEnabled,
        VersionIdsToStages: Object.fromEntries([...this.versions].map(([id, v]) => [id, v.stages])),
      };
    }
    if (command instanceof UpdateSecretVersionStageCommand) {
      const { VersionStage, MoveToVersionId, RemoveFromVersionId } = command.input;
      const from = RemoveFromVersionId ? this.versions.get(RemoveFromVersionId) : undefined;
      if (from) from.stages = from.stages.filter((s) => s !== VersionStage);
      this.versions.get(MoveToVersionId ?? '')?.stages.push(VersionStage ?? '');
      return {};
    }
    throw new Error(`unexpected command ${String(command)}`);
  }
}

const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:JwtKeys-AbCdEf';
const publicSecretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:JwtPublicKeys-GhIjKl';
const cfnEvent = (
  RequestType: 'Create' | 'Update' | 'Delete',
  extra: Record<string, unknown> = {},
): CloudFormationCustomResourceEvent =>
  ({
    RequestType,
    ServiceToken: 'x',
    ResponseURL: 'https://example.test',
    StackId: 's',
    RequestId: 'r',
    LogicalResourceId: 'KeySet',
    ResourceType: 'Custom::JwtKeySet',
    ResourceProperties: {
      ServiceToken: 'x',
      SecretArn: secretArn,
      PublicSecretArn: publicSecretArn,
      Alg: 'EdDSA',
    },
    ...extra,
  }) as unknown as CloudFormationCustomResourceEvent;

let secret: FakeSecret;
let publicSecret: FakeSecret;
beforeEach(() => {
  secret = new FakeSecret();
  publicSecret = new FakeSecret();
  process.env.JWT_PUBLIC_KEYS_SECRET_ARN = publicSecretArn;
  vi.spyOn(SecretsManagerClient.prototype, 'send').mockImplementation(((command: {
    input: { SecretId?: string };
  }) =>
    Promise.resolve().then(() =>
      (command.input.SecretId === publicSecretArn ? publicSecret : secret).send(command),
    )) as never);
});
afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.JWT_PUBLIC_KEYS_SECRET_ARN;
});

const current = () => KeySetDocument.parse(JSON.parse(secret.stageOf('AWSCURRENT')?.value ?? '{}'));
/** The public secret's current JWKS: every key's public half, and nothing private. */
const published = () => {
  const raw = publicSecret.stageOf('AWSCURRENT')?.value ?? '{}';
  expect(raw).not.toMatch(/"d"\s*:/); // no private key material (the `d` of an OKP/EC JWK)
  return PublicKeySetDocument.parse(JSON.parse(raw));
};

describe('When the JwtKeySet custom resource is created', () => {
  it('replaces the placeholder with an EdDSA key set', async () => {
    secret.put(JSON.stringify({ keys: [], placeholder: 'x' }));
    const out = await handler(cfnEvent('Create'));
    const doc = current();
    expect(doc.keys).toHaveLength(1);
    expect(doc.keys[0]?.alg).toBe('EdDSA');
    expect(doc.keys[0]?.privateJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(out).toEqual({ PhysicalResourceId: secretArn, Data: { ActiveKid: doc.activeKid } });
    expect(published().keys).toEqual([{ ...doc.keys[0]?.publicJwk, kid: doc.activeKid, alg: 'EdDSA' }]);
  });

  it('publishes the public key set of an existing stack on update (the public secret came later)', async () => {
    secret.put(JSON.stringify({ keys: [] }));
    await handler(cfnEvent('Create'));
    publicSecret = new FakeSecret();
    await handler(cfnEvent('Update', { PhysicalResourceId: secretArn }));
    expect(published().keys.map((k) => k.kid)).toEqual([current().activeKid]);
  });

  it('keeps a valid key set already in the secret', async () => {
    secret.put(JSON.stringify({ keys: [] }));
    await handler(cfnEvent('Create'));
    const before = current().activeKid;
    await handler(cfnEvent('Create'));
    expect(current().activeKid).toBe(before);
  });

  it('keeps the private key set on update and changes nothing on delete', async () => {
    secret.put(JSON.stringify({ keys: [] }));
    await handler(cfnEvent('Create'));
    const versions = secret.versions.size;
    await handler(cfnEvent('Update', { PhysicalResourceId: secretArn }));
    await handler(cfnEvent('Delete', { PhysicalResourceId: secretArn }));
    expect(secret.versions.size).toBe(versions);
  });
});

describe('When Secrets Manager rotates the key set', () => {
  const rotate = async (token: string) => {
    for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
      await handler({ SecretId: secretArn, ClientRequestToken: token, Step });
    }
  };

  it('makes a new key active and keeps the old one public-only for verification', async () => {
    secret.put(JSON.stringify({ keys: [] }));
    await handler(cfnEvent('Create'));
    const old = current();
    // RotateSecret records the pending version id before it calls createSecret.
    const token = randomUUID();
    secret.put('', token, ['AWSPENDING']);
    await rotate(token);
    const doc = current();
    expect(secret.stageOf('AWSCURRENT')?.id).toBe(token);
    expect(doc.activeKid).not.toBe(old.activeKid);
    expect(doc.keys.map((k) => k.kid)).toEqual([doc.activeKid, old.activeKid]);
    expect(doc.keys[1]?.privateJwk).toBeUndefined();
    expect(published().keys.map((k) => k.kid)).toEqual([doc.activeKid, old.activeKid]);
  });

  it('publishes the new public key before the new key becomes current (createSecret)', async () => {
    secret.put(JSON.stringify({ keys: [] }));
    await handler(cfnEvent('Create'));
    const old = current();
    const token = randomUUID();
    secret.put('', token, ['AWSPENDING']);
    await handler({ SecretId: secretArn, ClientRequestToken: token, Step: 'createSecret' });
    expect(current().activeKid).toBe(old.activeKid);
    const kids = published().keys.map((k) => k.kid);
    expect(kids).toHaveLength(2);
    expect(kids).toContain(old.activeKid);
  });

  it('keeps at most three keys, so three rotations retire a leaked key', async () => {
    secret.put(JSON.stringify({ keys: [] }));
    await handler(cfnEvent('Create'));
    const leaked = current().activeKid;
    for (let i = 0; i < 3; i++) {
      const token = randomUUID();
      secret.put('', token, ['AWSPENDING']);
      await rotate(token);
    }
    const kids = current().keys.map((k) => k.kid);
    expect(kids).toHaveLength(3);
    expect(kids).not.toContain(leaked);
  });

  it('refuses a version that is neither pending nor current', async () => {
    secret.put(JSON.stringify({ keys: [] }));
    await handler(cfnEvent('Create'));
    const stray = randomUUID();
    secret.versions.set(stray, { value: '', stages: [] });
    await expect(
      handler({ SecretId: secretArn, ClientRequestToken: stray, Step: 'createSecret' }),
    ).rejects.toThrow(/not AWSPENDING/);
  });
});
