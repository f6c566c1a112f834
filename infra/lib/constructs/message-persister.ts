import type { KafkaConsumerDef } from '@chat/functions/routes';
import { Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  AuthenticationMethod,
  ManagedKafkaEventSource,
  SelfManagedKafkaEventSource,
  SqsDlq,
} from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { KafkaConsumerConfig } from '../config.ts';
import { acknowledge } from '../nag.ts';
import type { ChatFunction } from './chat-function.ts';
import { type Streaming, topicNames } from './streaming.ts';

export interface MessagePersisterProps {
  /** The route table's consumer definition (batch size, window, starting position). */
  readonly consumer: KafkaConsumerDef;
  readonly fn: ChatFunction;
  readonly streaming: Streaming;
  readonly config: KafkaConsumerConfig;
}

/**
 * The Kafka event source of a consumer of the route table's `kafkaConsumers` (persistFanout on the messages
 * topic; webPush on the notifications topic, issue 15):
 * batching window 0 (invoke as soon as records arrive), the table's batch size and starting position, a fixed
 * consumer group id (so IAM can name it and a redeploy keeps the committed offsets), and an SQS dead-letter
 * queue as on-failure destination. A failing batch is retried until it succeeds or the record expires (AWS's
 * default, and what the local runtime does), and only then goes to the DLQ: an outage of a backing service
 * delays delivery but cannot move acked messages to the queue. Poison records never get that far: the handler
 * sends them to the Kafka dead-letter topic and moves on. Bounded retries with bisection are opt-in
 * (`-c kafkaRetryAttempts=N`, provisioned pollers only: the platform refuses them in on-demand mode).
 */
export class MessagePersister extends Construct {
  public readonly deadLetterQueue: sqs.Queue;
  public readonly consumerGroupId: string;
  public readonly eventSource: ManagedKafkaEventSource | SelfManagedKafkaEventSource;

  constructor(scope: Construct, id: string, props: MessagePersisterProps) {
    super(scope, id);
    const { consumer, streaming, fn, config } = props;
    if (consumer.batchingWindowSeconds !== 0) {
      throw new Error(`kafka consumer ${consumer.fn}: batching window must be 0 for chat latency`);
    }
    if (!Object.hasOwn(topicNames, consumer.topic)) throw new Error(`unknown topic id ${consumer.topic}`);
    this.consumerGroupId = `chat-${consumer.fn}`;

    this.deadLetterQueue = new sqs.Queue(this, 'Dlq', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledge(this.deadLetterQueue, [
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself the dead-letter destination (failed-batch metadata: topic, partition, offsets).',
      },
    ]);

    const common = {
      topic: topicNames[consumer.topic],
      batchSize: consumer.batchSize,
      maxBatchingWindow: Duration.seconds(consumer.batchingWindowSeconds),
      startingPosition: lambda.StartingPosition[consumer.startingPosition],
      consumerGroupId: this.consumerGroupId,
      onFailure: new SqsDlq(this.deadLetterQueue),
      ...(config.provisionedPollers
        ? {
            provisionedPollerConfig: {
              minimumPollers: config.provisionedPollers.min,
              maximumPollers: config.provisionedPollers.max,
            },
          }
        : {}),
      ...(config.provisionedPollers && config.retryAttempts !== undefined
        ? { retryAttempts: config.retryAttempts, bisectBatchOnError: true }
        : {}),
    };

    if (streaming.cluster) {
      this.eventSource = new ManagedKafkaEventSource({ ...common, clusterArn: streaming.cluster.attrArn });
      streaming.grantConsume(fn, this.consumerGroupId, consumer.topic);
      acknowledge(fn.role as iam.Role, [
        {
          id: 'AwsSolutions-IAM4',
          reason:
            'AWSLambdaMSKExecutionRole (added by ManagedKafkaEventSource) lets the event source describe the ' +
            'cluster and manage its pollers\u2019 ENIs; ec2:Describe* cannot be scoped. Data-plane access is ' +
            'granted separately, per topic and consumer group.',
          appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaMSKExecutionRole'],
        },
      ]);
    } else if (streaming.config.kind === 'self-managed' && streaming.scramSecret) {
      this.eventSource = new SelfManagedKafkaEventSource({
        ...common,
        bootstrapServers: [...streaming.config.bootstrapServers],
        secret: streaming.scramSecret,
        authenticationMethod:
          streaming.config.mechanism === 'SCRAM-SHA-512'
            ? AuthenticationMethod.SASL_SCRAM_512_AUTH
            : AuthenticationMethod.SASL_SCRAM_256_AUTH,
      });
    } else {
      throw new Error('MessagePersister: the streaming construct has neither a cluster nor a SCRAM secret');
    }
    fn.addEventSource(this.eventSource);
    fn.node.addDependency(streaming.topicsResource);
  }
}
