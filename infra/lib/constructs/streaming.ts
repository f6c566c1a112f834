import { topics } from '@chat/functions/contracts';
import { CustomResource, Duration, Fn, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as msk from 'aws-cdk-lib/aws-msk';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { StreamingConfig } from '../config.ts';
import { acknowledgeProviderFramework } from '../nag.ts';
import { ChatFunction } from './chat-function.ts';
import { secretFromArn } from './database.ts';

export interface StreamingProps {
  readonly config: StreamingConfig;
  readonly vpc: ec2.IVpc;
  /** The functions' security group (Kafka clients). */
  readonly clients: ec2.ISecurityGroup;
  /** TEST ONLY, see ChatFunctionProps.stubMissingEntry. */
  readonly stubMissingEntries?: boolean;
}

/** Topic names on AWS: the contract's defaults (the env vars carry them to the functions). */
export const topicNames = {
  messages: topics.messages.defaultName,
  deadLetter: topics.deadLetter.defaultName,
  notifications: topics.notifications.defaultName,
} as const;

/** MSK IAM port (SASL/OAUTHBEARER over TLS). */
const MSK_IAM_PORT = 9098;

/**
 * Kafka. Default: an MSK Serverless cluster with IAM auth in the private subnets. Otherwise an existing
 * Kafka/Redpanda reachable over TLS with SASL/SCRAM (bootstrap servers + a Secrets Manager secret).
 * Either way the topics are created at deploy time by a custom resource that runs the same `ensureTopics`
 * the local services manager runs, from the same definitions (`topics` in the contracts).
 *
 * IAM: CDK adds no Kafka data-plane permissions, so `grantProduce`/`grantConsume` write them here, each scoped
 * to the cluster, topic and consumer-group ARNs involved.
 */
export class Streaming extends Construct {
  public readonly config: StreamingConfig;
  /** MSK Serverless only. */
  public readonly cluster?: msk.CfnServerlessCluster;
  /** MSK Serverless only: the cluster's security group (clients and the event source pollers). */
  public readonly securityGroup?: ec2.SecurityGroup;
  /** Self-managed only: the SASL/SCRAM secret. */
  public readonly scramSecret?: secretsmanager.ISecret;
  /** KAFKA_* part of a producer's environment. */
  public readonly environment: Readonly<Record<string, string>>;
  /** The topic-creating custom resource; consumers and producers should be created after it. */
  public readonly topicsResource: CustomResource;

  constructor(scope: Construct, id: string, props: StreamingProps) {
    super(scope, id);
    this.config = props.config;
    const topicEnv = {
      [topics.messages.envVar]: topicNames.messages,
      [topics.deadLetter.envVar]: topicNames.deadLetter,
      [topics.notifications.envVar]: topicNames.notifications,
    };

    let brokers: string;
    let adminVpc: Pick<StreamingProps, 'vpc' | 'clients'> | undefined;
    if (props.config.kind === 'msk-serverless') {
      this.securityGroup = new ec2.SecurityGroup(this, 'Sg', {
        vpc: props.vpc,
        description: 'MSK Serverless: IAM port from the functions and from itself (event source pollers)',
        // The Lambda event source pollers run with this group and call Lambda/STS over HTTPS.
        allowAllOutbound: true,
      });
      this.securityGroup.addIngressRule(props.clients, ec2.Port.tcp(MSK_IAM_PORT), 'chat functions');
      this.securityGroup.addIngressRule(
        this.securityGroup,
        ec2.Port.tcp(MSK_IAM_PORT),
        'event source pollers',
      );
      const name = `${Stack.of(this).stackName}-kafka`.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 64);
      this.cluster = new msk.CfnServerlessCluster(this, 'Cluster', {
        clusterName: name,
        clientAuthentication: { sasl: { iam: { enabled: true } } },
        vpcConfigs: [
          {
            subnetIds: props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
            securityGroups: [this.securityGroup.securityGroupId],
          },
        ],
      });
      // CloudFormation has no bootstrap-broker attribute for MSK Serverless: ask the control plane at deploy.
      const bootstrap = new cr.AwsCustomResource(this, 'BootstrapBrokers', {
        onUpdate: {
          service: 'Kafka',
          action: 'GetBootstrapBrokers',
          parameters: { ClusterArn: this.cluster.attrArn },
          physicalResourceId: cr.PhysicalResourceId.of(this.cluster.attrArn),
          outputPaths: ['BootstrapBrokerStringSaslIam'],
        },
        policy: cr.AwsCustomResourcePolicy.fromStatements([
          new iam.PolicyStatement({
            actions: ['kafka:GetBootstrapBrokers'],
            resources: [this.cluster.attrArn],
          }),
        ]),
        installLatestAwsSdk: false,
      });
      brokers = bootstrap.getResponseField('BootstrapBrokerStringSaslIam');
      adminVpc = props;
      this.environment = { KAFKA_BROKERS: brokers, KAFKA_AUTH: 'iam', ...topicEnv };
    } else {
      this.scramSecret = secretFromArn(this, 'ScramSecret', props.config.scramSecretArn);
      brokers = props.config.bootstrapServers.join(',');
      this.environment = {
        KAFKA_BROKERS: brokers,
        KAFKA_AUTH: 'scram',
        KAFKA_SCRAM_SECRET_ARN: props.config.scramSecretArn,
        ...topicEnv,
      };
    }

    // Topics, created with the contract's definitions by the same ensureTopics() the services manager runs.
    const onEvent = new ChatFunction(this, 'TopicsFn', {
      entry: 'handlers/custom-resource/kafka-topics.ts',
      description: 'Custom resource: creates the chat Kafka topics (ensureTopics) at deploy time',
      timeout: Duration.minutes(2),
      memorySize: 256,
      environment: this.environment,
      ...(adminVpc ? { vpc: adminVpc.vpc, securityGroups: [adminVpc.clients] } : {}),
      stubMissingEntry: props.stubMissingEntries ?? false,
    });
    this.grantAdmin(onEvent);
    const provider = new cr.Provider(this, 'TopicsProvider', { onEventHandler: onEvent });
    this.topicsResource = new CustomResource(this, 'Topics', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::KafkaTopics',
      properties: {
        // Any change to the definitions re-runs ensureTopics (it only creates and grows, never deletes).
        Topics: JSON.stringify(topics),
        Brokers: brokers,
      },
    });
    if (this.cluster) this.topicsResource.node.addDependency(this.cluster);
    acknowledgeProviderFramework(provider, onEvent);
  }

  /** ARN of a topic (or consumer group) of the MSK cluster: `arn:…:topic/<cluster name>/<cluster uuid>/<name>`. */
  private mskArn(kind: 'topic' | 'group', name: string): string {
    if (!this.cluster) throw new Error('not an MSK cluster');
    const stack = Stack.of(this);
    const parts = Fn.split('/', this.cluster.attrArn);
    return Fn.join('', [
      `arn:${stack.partition}:kafka:${stack.region}:${stack.account}:${kind}/`,
      Fn.select(1, parts),
      '/',
      Fn.select(2, parts),
      `/${name}`,
    ]);
  }

  /** Write to the chat topics (messages, dead letters, notifications; idempotent producer). */
  public grantProduce(grantee: iam.IGrantable): void {
    if (!this.cluster) {
      this.scramSecret?.grantRead(grantee);
      return;
    }
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently'],
      resourceArns: [this.cluster.attrArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
      resourceArns: this.allTopicArns(),
    });
  }

  /** Read a topic (default: messages) as consumer group `groupId` (what the Lambda event source mapping does). */
  public grantConsume(
    grantee: iam.IGrantable,
    groupId: string,
    topic: keyof typeof topicNames = 'messages',
  ): void {
    if (!this.cluster) {
      // SelfManagedKafkaEventSource grants read on the SCRAM secret itself.
      return;
    }
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'],
      resourceArns: [this.cluster.attrArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      resourceArns: [this.mskArn('topic', topicNames[topic])],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
      resourceArns: [this.mskArn('group', groupId)],
    });
  }

  /** Create and grow the chat topics (the topics custom resource). */
  private grantAdmin(grantee: iam.IGrantable): void {
    if (!this.cluster) {
      this.scramSecret?.grantRead(grantee);
      return;
    }
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
      resourceArns: [this.cluster.attrArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'kafka-cluster:CreateTopic',
        'kafka-cluster:DescribeTopic',
        'kafka-cluster:AlterTopic',
        'kafka-cluster:DescribeTopicDynamicConfiguration',
      ],
      resourceArns: this.allTopicArns(),
    });
  }

  private allTopicArns(): string[] {
    return Object.values(topicNames).map((name) => this.mskArn('topic', name));
  }
}
