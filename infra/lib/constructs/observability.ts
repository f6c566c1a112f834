import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';

export interface ObservabilityProps {
  /** Every function whose errors should alarm, by name. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** The Kafka consumer function (offset lag, zero-tolerance errors). */
  readonly consumer: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  readonly httpApi: apigw.HttpApi;
  readonly webSocketApi: apigw.WebSocketApi;
  readonly webSocketStageName: string;
  /** @default - no subscription: alarms still fire and show on the dashboard */
  readonly alarmEmail?: string;
  /** Records behind before the lag alarm fires. @default 1000 */
  readonly offsetLagThreshold?: number;
}

/**
 * Alarms and one dashboard. Alarms: the Kafka DLQ has messages; a function errors (any error of the Kafka
 * consumer, since it blocks a partition; 5 in 5 minutes elsewhere); the consumer's offset lag stays high for 3
 * minutes; the HTTP API answers 5xx, or WebSocket integrations fail. Logs are structured JSON (Powertools) in
 * one log group per function with one month retention.
 */
export class Observability extends Construct {
  public readonly topic: sns.Topic;
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Alarms', { displayName: 'chat alarms', enforceSSL: true });
    acknowledge(this.topic, [
      {
        id: 'AwsSolutions-SNS2',
        reason:
          'Alarm notifications carry no user data; SSE with the AWS-managed SNS key would stop CloudWatch from ' +
          'publishing, and a customer key costs more than the alarms.',
      },
    ]);
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const notify = new actions.SnsAction(this.topic);
    const alarm = (alarmId: string, a: cloudwatch.AlarmProps): cloudwatch.Alarm => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...a,
      });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      this.alarms.push(created);
      return created;
    };
    const fiveMinutes = Duration.minutes(5);

    const dlqDepth = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.MAXIMUM,
    });
    alarm('DlqDepth', {
      alarmDescription:
        'Kafka batches gave up and went to the dead-letter queue: replay them (docs/deploy.md).',
      metric: dlqDepth,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });

    const offsetLag = new cloudwatch.Metric({
      namespace: 'AWS/Lambda',
      metricName: 'OffsetLag',
      dimensionsMap: { FunctionName: props.consumer.functionName },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(1),
    });
    alarm('KafkaOffsetLag', {
      alarmDescription: 'The persist-and-fan-out consumer is falling behind the messages topic.',
      metric: offsetLag,
      threshold: props.offsetLagThreshold ?? 1000,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });

    for (const [name, fn] of Object.entries(props.functions)) {
      const isConsumer = fn === props.consumer;
      alarm(`Errors${name}`, {
        alarmDescription: `${name} is throwing errors.`,
        metric: fn.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        threshold: isConsumer ? 1 : 5,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }

    const http5xx = props.httpApi.metricServerError({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM });
    alarm('Http5xx', {
      alarmDescription: 'The HTTP API answers 5xx.',
      metric: http5xx,
      threshold: 5,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    const wsMetric = (metricName: string, statistic: string = cloudwatch.Stats.SUM) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.webSocketApi.apiId, Stage: props.webSocketStageName },
        statistic,
        period: fiveMinutes,
      });
    alarm('WebSocketErrors', {
      alarmDescription: 'WebSocket route integrations fail (the API Gateway equivalent of 5xx).',
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(execution, 0) + FILL(integration, 0)',
        usingMetrics: { execution: wsMetric('ExecutionError'), integration: wsMetric('IntegrationError') },
        period: fiveMinutes,
        label: 'WebSocket execution + integration errors',
      }),
      threshold: 5,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'WebSocket',
        left: [wsMetric('ConnectCount'), wsMetric('MessageCount')],
        right: [wsMetric('IntegrationLatency', cloudwatch.Stats.p(99))],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'HTTP API',
        left: [
          props.httpApi.metricClientError({ period: fiveMinutes }),
          http5xx,
          props.httpApi.metricCount({ period: fiveMinutes }),
        ],
        right: [props.httpApi.metricLatency({ period: fiveMinutes, statistic: cloudwatch.Stats.p(99) })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Kafka consumer',
        left: [offsetLag, dlqDepth],
        right: [
          props.consumer.metricDuration({ statistic: cloudwatch.Stats.p(99) }),
          props.consumer.metricInvocations(),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: Object.entries(props.functions).map(([name, fn]) =>
          fn.metricErrors({ period: fiveMinutes, label: name }),
        ),
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }),
    );
  }
}
