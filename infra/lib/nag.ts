import { Stack, Validations } from 'aws-cdk-lib';
// Not re-exported by cdk-nag's index; the same function its rules use to name findings.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/** A cdk-nag rule acknowledged on a construct and everything under it, with the reason written down. */
export interface NagAck {
  /** Rule id, e.g. `AwsSolutions-IAM5`. */
  readonly id: string;
  /** Why the finding is acceptable here. Required, and long enough to say something. */
  readonly reason: string;
  /** Narrow to specific findings (cdk-nag v3 `Rule[finding]`), e.g. `Resource::*`. */
  readonly appliesTo?: readonly string[];
}

/** cdk-nag v3 acknowledgement (CDK Validations), one per finding. Refuses an empty or token reason. */
export function acknowledge(scope: IConstruct, acks: readonly NagAck[]): void {
  for (const a of acks) {
    if (a.reason.trim().length < 20) throw new Error(`nag acknowledgement ${a.id} needs a real reason`);
    const ids = a.appliesTo?.length ? a.appliesTo.map((f) => `${a.id}[${f}]`) : [a.id];
    for (const id of ids) Validations.of(scope).acknowledge({ id, reason: a.reason });
  }
}

/**
 * The finding string cdk-nag reports for a resource ARN (tokens flattened the way cdk-nag does it, e.g.
 * `<MyFn1234.Arn>:*`), so an acknowledgement matches whether the stack is env-agnostic or not.
 */
export function resourceFinding(scope: IConstruct, arn: string): string {
  return `Resource::${flattenCfnReference(Stack.of(scope).resolve(arn))}`;
}

/**
 * The findings of a CDK custom resource `Provider` (its framework function): the AWS-managed basic execution
 * role, the right to invoke every version of its own `onEvent` function, and the runtime aws-cdk-lib chooses.
 */
export function acknowledgeProviderFramework(
  provider: IConstruct,
  onEvent: { readonly functionArn: string },
): void {
  acknowledge(provider, [
    {
      id: 'AwsSolutions-IAM4',
      reason: 'CDK custom resource provider framework function: AWS-managed basic execution role.',
      appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
    },
    {
      id: 'AwsSolutions-IAM5',
      reason: 'CDK provider framework: may invoke every version of its own onEvent function (ARN:*).',
      appliesTo: [resourceFinding(provider, `${onEvent.functionArn}:*`)],
    },
    { id: 'AwsSolutions-L1', reason: 'The provider framework runtime is chosen by aws-cdk-lib.' },
  ]);
}

const CDK_DEPLOYMENT_SINGLETON = /^Custom::CDKBucketDeployment/;
const AWS_CUSTOM_RESOURCE_SINGLETON = 'AWS679f53fac002430cb0da5b7982bd2287';
const BASIC_ROLE = 'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';

/**
 * Helper functions aws-cdk-lib adds to the stack (BucketDeployment, AwsCustomResource): their roles and
 * runtimes are written by aws-cdk-lib, not by us. Each finding is named explicitly, so a new one still fails.
 */
export function acknowledgeCdkInternals(stack: Stack, siteBucketArn: string): void {
  for (const child of stack.node.children) {
    if (CDK_DEPLOYMENT_SINGLETON.test(child.node.id)) {
      acknowledge(child, [
        {
          id: 'AwsSolutions-IAM4',
          reason: 'aws-cdk-lib BucketDeployment handler: AWS-managed basic execution role (logs only).',
          appliesTo: [BASIC_ROLE],
        },
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'aws-cdk-lib BucketDeployment handler: copies the site asset from the CDK asset bucket into the ' +
            'site bucket (object-level wildcards within those two buckets) and invalidates CloudFront ' +
            '(CreateInvalidation as written by aws-cdk-lib).',
          appliesTo: [
            'Action::s3:GetObject*',
            'Action::s3:GetBucket*',
            'Action::s3:List*',
            'Action::s3:DeleteObject*',
            'Action::s3:Abort*',
            resourceFinding(
              stack,
              `arn:${stack.partition}:s3:::cdk-hnb659fds-assets-${stack.account}-${stack.region}/*`,
            ),
            resourceFinding(stack, `${siteBucketArn}/*`),
            'Resource::*',
          ],
        },
        {
          id: 'AwsSolutions-L1',
          reason: 'aws-cdk-lib BucketDeployment handler: runtime pinned by aws-cdk-lib.',
        },
      ]);
    } else if (child.node.id === AWS_CUSTOM_RESOURCE_SINGLETON) {
      acknowledge(child, [
        {
          id: 'AwsSolutions-IAM4',
          reason: 'aws-cdk-lib AwsCustomResource handler: AWS-managed basic execution role (logs only).',
          appliesTo: [BASIC_ROLE],
        },
      ]);
    }
  }
}
