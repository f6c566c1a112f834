import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledge, resourceFinding } from '../nag.ts';
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
 * with `jose`, and the same function rotates the set on a schedule (Secrets Manager rotation). Functions with
 * `jwtKeys` in their `uses` read it (JWT_KEYS_SECRET_ARN); they reload it every few minutes and on an unknown
 * `kid`, so a rotation needs no redeploy.
 */
export class JwtKeys extends Construct {
  public readonly secret: secretsmanager.Secret;
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

    const fn = new ChatFunction(this, 'Fn', {
      entry: 'handlers/custom-resource/jwt-keys.ts',
      description:
        'Generates (custom resource) and rotates (Secrets Manager rotation) the JWT signing key set',
      timeout: Duration.seconds(30),
      memorySize: 256,
      stubMissingEntry: props.stubMissingEntries ?? false,
    });
    // Writes its own secret only.
    this.secret.grantRead(fn);
    this.secret.grantWrite(fn);

    this.secret.addRotationSchedule('Rotation', {
      rotationLambda: fn,
      automaticallyAfter: Duration.days(props.rotationDays),
      rotateImmediatelyOnUpdate: false,
    });

    const provider = new cr.Provider(this, 'Provider', { onEventHandler: fn });
    this.resource = new CustomResource(this, 'KeySet', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::JwtKeySet',
      properties: { SecretArn: this.secret.secretArn, Alg: props.alg ?? 'EdDSA' },
    });

    acknowledge(provider, [
      {
        id: 'AwsSolutions-IAM4',
        reason: 'CDK custom resource provider framework function: AWS-managed basic execution role.',
        appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
      },
      {
        id: 'AwsSolutions-IAM5',
        reason: 'CDK provider framework: may invoke every version of its own onEvent function (ARN:*).',
        appliesTo: [resourceFinding(this, `${fn.functionArn}:*`)],
      },
      { id: 'AwsSolutions-L1', reason: 'The provider framework runtime is chosen by aws-cdk-lib.' },
    ]);
  }

  public grantRead(grantee: iam.IGrantable): void {
    this.secret.grantRead(grantee);
  }
}
