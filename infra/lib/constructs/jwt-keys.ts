import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeProviderFramework } from '../nag.ts';
import { ChatFunction } from './chat-function.ts';

export interface JwtKeysProps {
  /** Days between automatic rotations (new active key; the previous keys stay for verification). */
  readonly rotationDays: number;
  /** @default 'EdDSA' (Ed25519) */
  readonly alg?: 'EdDSA' | 'ES256';
  /** TEST ONLY, see ChatFunctionProps.stubMissingEntry. */
  readonly stubMissingEntries?: boolean;
}

/**
 * The JWT signing key set, generated at deploy time into Secrets Manager (generateSecretString cannot make an
 * Ed25519 key): a custom resource writes `{ activeKid, keys: [{ kid, alg, privateJwk, publicJwk, createdAt }] }`
 * with `jose`, and the same function rotates the set on a schedule (Secrets Manager rotation). Only functions
 * with `jwtSign` in their `uses` (the auth function) may read it (JWT_KEYS_SECRET_ARN). The same function also
 * writes the PUBLIC key set (a JWKS, no private key) into a second secret, before a new key ever signs; functions
 * with `jwtVerify` read that one (JWT_PUBLIC_KEYS_SECRET_ARN). Readers reload every few minutes and on an unknown
 * `kid`, so a rotation needs no redeploy.
 */
export class JwtKeys extends Construct {
  /** The private key set: readable by the signer only. */
  public readonly secret: secretsmanager.Secret;
  /** The public key set (JWKS): readable by every verifier. */
  public readonly publicSecret: secretsmanager.Secret;
  /** Depend on this so that no reader starts before the first key set exists. */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: JwtKeysProps) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description:
        'Chat JWT signing key set (JWK). Written and rotated by the JwtKeys function, never by hand.',
      // A throwaway placeholder until the custom resource writes the real set (it is not a valid key set).
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ keys: [] }),
        generateStringKey: 'placeholder',
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.publicSecret = new secretsmanager.Secret(this, 'PublicSecret', {
      description:
        'Chat JWT public key set (JWKS, no private key). Written by the JwtKeys function, never by hand.',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ keys: [] }),
        generateStringKey: 'placeholder',
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    acknowledge(this.publicSecret, [
      {
        id: 'AwsSolutions-SMG4',
        reason:
          'Public data (a JWKS), rewritten by the rotation of the private key set it is derived from; nothing to rotate on its own.',
      },
    ]);

    const fn = new ChatFunction(this, 'Fn', {
      entry: 'handlers/custom-resource/jwt-keys.ts',
      description:
        'Generates (custom resource) and rotates (Secrets Manager rotation) the JWT signing key set',
      timeout: Duration.seconds(30),
      memorySize: 256,
      stubMissingEntry: props.stubMissingEntries ?? false,
      // The rotation publishes the new public key set before the new key signs.
      environment: { JWT_PUBLIC_KEYS_SECRET_ARN: this.publicSecret.secretArn },
    });
    // Writes its own secrets only.
    this.secret.grantRead(fn);
    this.secret.grantWrite(fn);
    this.publicSecret.grantWrite(fn);

    this.secret.addRotationSchedule('Rotation', {
      rotationLambda: fn,
      automaticallyAfter: Duration.days(props.rotationDays),
      rotateImmediatelyOnUpdate: false,
    });

    const provider = new cr.Provider(this, 'Provider', { onEventHandler: fn });
    this.resource = new CustomResource(this, 'KeySet', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::JwtKeySet',
      properties: {
        SecretArn: this.secret.secretArn,
        PublicSecretArn: this.publicSecret.secretArn,
        Alg: props.alg ?? 'EdDSA',
      },
    });

    acknowledgeProviderFramework(provider, fn);
  }

  /** Read the private key set (sign tokens). */
  public grantSign(grantee: iam.IGrantable): void {
    this.secret.grantRead(grantee);
  }

  /** Read the public key set (verify tokens). */
  public grantVerify(grantee: iam.IGrantable): void {
    this.publicSecret.grantRead(grantee);
  }
}
