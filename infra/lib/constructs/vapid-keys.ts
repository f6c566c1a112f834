import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeProviderFramework } from '../nag.ts';
import { ChatFunction } from './chat-function.ts';

export interface VapidKeysProps {
  /** TEST ONLY, see ChatFunctionProps.stubMissingEntry. */
  readonly stubMissingEntries?: boolean;
}

/**
 * The Web Push VAPID key pair (issue 15), generated at deploy time into Secrets Manager like the JWT keys: a
 * custom resource writes `{ publicKey, privateKey }` (P-256, base64url) unless the secret already holds a valid
 * pair, and returns the public key for the site's config.json. Only the webPush function reads the secret
 * (VAPID_KEYS_SECRET_ARN). Not rotated: the browsers' subscriptions are bound to the public key
 * (docs/adr/0010-web-push.md).
 */
export class VapidKeys extends Construct {
  public readonly secret: secretsmanager.Secret;
  public readonly resource: CustomResource;
  /** The public key (a deploy-time token): `vapidPublicKey` in config.json. */
  public readonly publicKey: string;

  constructor(scope: Construct, id: string, props: VapidKeysProps = {}) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'Chat Web Push VAPID key pair. Written by the VapidKeys custom resource, never by hand.',
      // A placeholder until the custom resource writes the real pair (it is not a valid pair).
      generateSecretString: {
        secretStringTemplate: JSON.stringify({}),
        generateStringKey: 'placeholder',
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(this.secret, [
      {
        id: 'AwsSolutions-SMG4',
        reason:
          'VAPID keys are not rotated on purpose: every browser subscription is bound to the public key, a new ' +
          'one would silently end all notifications (docs/adr/0010-web-push.md).',
      },
    ]);

    const fn = new ChatFunction(this, 'Fn', {
      entry: 'handlers/custom-resource/vapid-keys.ts',
      description: 'Custom resource: generates the Web Push VAPID key pair into its secret at deploy time',
      timeout: Duration.seconds(30),
      memorySize: 256,
      stubMissingEntry: props.stubMissingEntries ?? false,
    });
    this.secret.grantRead(fn);
    this.secret.grantWrite(fn);

    const provider = new cr.Provider(this, 'Provider', { onEventHandler: fn });
    this.resource = new CustomResource(this, 'KeyPair', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::VapidKeys',
      properties: { SecretArn: this.secret.secretArn },
    });
    this.publicKey = this.resource.getAttString('PublicKey');

    acknowledgeProviderFramework(provider, fn);
  }

  public grantRead(grantee: iam.IGrantable): void {
    this.secret.grantRead(grantee);
  }
}
