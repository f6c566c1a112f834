import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VapidKeys } from '#adapters/web-push.ts';
import { handler } from './vapid-keys.ts';

/** The deploy-time logic against an in-memory secret (pure unit test). */
let value: string | undefined;
beforeEach(() => {
  value = JSON.stringify({ placeholder: 'x' });
  vi.spyOn(SecretsManagerClient.prototype, 'send').mockImplementation(((command: unknown) =>
    Promise.resolve().then(() => {
      if (command instanceof GetSecretValueCommand) {
        if (value === undefined) throw new ResourceNotFoundException({ message: 'none', $metadata: {} });
        return { SecretString: value };
      }
      if (command instanceof PutSecretValueCommand) {
        value = command.input.SecretString;
        return {};
      }
      throw new Error('unexpected command');
    })) as never);
});
afterEach(() => vi.restoreAllMocks());

const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:Vapid-AbCdEf';
const event = (RequestType: 'Create' | 'Update' | 'Delete') =>
  ({
    RequestType,
    PhysicalResourceId: arn,
    ResourceProperties: { ServiceToken: 'x', SecretArn: arn },
  }) as unknown as CloudFormationCustomResourceEvent;

describe('Custom::VapidKeys', () => {
  it('Create replaces the placeholder with a P-256 key pair and returns the public key', async () => {
    const out = await handler(event('Create'));
    const keys = VapidKeys.parse(JSON.parse(value ?? ''));
    expect(Buffer.from(keys.publicKey, 'base64url')).toHaveLength(65);
    expect(Buffer.from(keys.privateKey, 'base64url')).toHaveLength(32);
    expect(out).toEqual({ PhysicalResourceId: arn, Data: { PublicKey: keys.publicKey } });
  });
  it('keeps a valid pair on Create and Update (subscriptions stay valid); Delete changes nothing', async () => {
    await handler(event('Create'));
    const before = value;
    expect((await handler(event('Update'))).Data?.PublicKey).toBe(
      VapidKeys.parse(JSON.parse(before ?? '')).publicKey,
    );
    await handler(event('Create'));
    await handler(event('Delete'));
    expect(value).toBe(before);
  });
});
