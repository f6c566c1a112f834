/** The default profile's stack, part 1: the APIs, their access, streaming and the event source. */
import { topics } from '@chat/functions/contracts';
import {
  type FunctionName,
  functionDefs,
  httpRouteKey,
  httpRoutes,
  kafkaConsumers,
  wsRouteSelectionExpression,
  wsRoutes,
} from '@chat/functions/routes';
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { templateRouteKeys } from '../lib/route-keys.ts';
import {
  actionsOf,
  functionHasAction,
  functionLogicalId,
  functionRoleStatements,
  resourcesOf,
  resourcesOfType,
} from './helpers.ts';
import { type Synthesized, synthChatStack } from './synth.ts';

let s: Synthesized;
const fnLogicalId = (name: FunctionName): string => functionLogicalId(s, name);
const roleStatements = (name: FunctionName) => functionRoleStatements(s, name);
const hasAction = (name: FunctionName, action: string) => functionHasAction(s, name, action);

beforeAll(() => {
  // One synthesis per file (synth is CPU-heavy; the machine is shared).
  s = synthChatStack();
});

describe('When the default profile is synthesized', () => {
  describe('RealtimeApi', () => {
    it('defines exactly the route table WebSocket routes, selected by $request.body.action', () => {
      s.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'WEBSOCKET',
        RouteSelectionExpression: wsRouteSelectionExpression,
      });
      expect(templateRouteKeys(s.json).ws).toEqual(wsRoutes.map((r) => r.routeKey).sort());
    });

    it('integrates each route with its function and adds a $default route response where returnResponse is true', () => {
      for (const r of wsRoutes) {
        const integration = new Capture();
        s.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
          RouteKey: r.routeKey,
          Target: Match.objectLike({ 'Fn::Join': ['', ['integrations/', { Ref: integration }]] }),
          ...(r.returnResponse ? { RouteResponseSelectionExpression: '$default' } : {}),
        });
        const uri = JSON.stringify(s.json.Resources[integration.asString()]?.Properties?.IntegrationUri);
        expect(uri, r.routeKey).toContain(fnLogicalId(r.fn));
      }
      const responses = resourcesOfType(s.json, 'AWS::ApiGatewayV2::RouteResponse');
      expect(responses).toHaveLength(wsRoutes.filter((r) => r.returnResponse).length);
      for (const [, rr] of responses) expect(rr.Properties?.RouteResponseKey).toBe('$default');
    });

    it('has a throttled stage with access logs', () => {
      s.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: 'prod',
        DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: Match.anyValue() }),
        AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
      });
    });
  });

  describe('API Gateway account (CloudWatch Logs role for stage access logs)', () => {
    it('sets the account CloudWatch role, retained, and creates the logging stage only after it', () => {
      const [[accountId, account] = []] = resourcesOfType(s.json, 'AWS::ApiGateway::Account');
      expect(accountId).toBeDefined();
      const roleArn = account?.Properties?.CloudWatchRoleArn as
        | { 'Fn::GetAtt': [string, string] }
        | undefined;
      const roleId = roleArn?.['Fn::GetAtt'][0] ?? '';
      const role = s.json.Resources[roleId] as {
        Properties?: Record<string, unknown>;
        DeletionPolicy?: string;
      };
      expect(JSON.stringify(role.Properties?.AssumeRolePolicyDocument)).toContain('apigateway.amazonaws.com');
      expect(JSON.stringify(role.Properties?.ManagedPolicyArns)).toContain(
        'AmazonAPIGatewayPushToCloudWatchLogs',
      );
      expect((account as { DeletionPolicy?: string }).DeletionPolicy).toBe('Retain');
      const [[, stage] = []] = resourcesOfType(s.json, 'AWS::ApiGatewayV2::Stage').filter(
        ([, r]) => r.Properties?.AccessLogSettings && r.Properties?.StageName === 'prod',
      );
      expect([stage?.DependsOn].flat()).toContain(accountId);
    });
  });

  describe('Management API access', () => {
    const pushers = (Object.keys(functionDefs) as FunctionName[]).filter((n) =>
      (functionDefs[n].uses as readonly string[]).includes('push'),
    );
    const others = (Object.keys(functionDefs) as FunctionName[]).filter((n) => !pushers.includes(n));

    it('is granted to every function with push in its uses, scoped to the stage @connections', () => {
      expect(pushers.length).toBeGreaterThan(0);
      for (const name of pushers) {
        const st = roleStatements(name).filter((x) => actionsOf(x).includes('execute-api:ManageConnections'));
        expect(st, name).toHaveLength(1);
        const resources = resourcesOf(st[0] as never);
        expect(resources).toHaveLength(1);
        const arn = JSON.stringify(resources[0]);
        expect(arn).toContain('/prod/*/@connections/*');
        expect(arn).toContain(s.stack.getLogicalId(s.stack.realtime.api.node.defaultChild as never));
      }
    });

    it('is granted to no other function', () => {
      for (const name of others) expect(hasAction(name, 'execute-api:ManageConnections'), name).toBe(false);
    });
  });

  describe('HttpApi', () => {
    it('defines exactly the route table HTTP routes', () => {
      expect(templateRouteKeys(s.json).http).toEqual(httpRoutes.map(httpRouteKey).sort());
    });

    it('routes each path to its function', () => {
      for (const r of httpRoutes) {
        const integration = new Capture();
        s.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
          RouteKey: httpRouteKey(r),
          Target: Match.objectLike({ 'Fn::Join': ['', ['integrations/', { Ref: integration }]] }),
        });
        const uri = JSON.stringify(s.json.Resources[integration.asString()]?.Properties?.IntegrationUri);
        expect(uri, httpRouteKey(r)).toContain(fnLogicalId(r.fn));
      }
    });

    it('allows CORS from the site origin only, and throttles', () => {
      const origins = new Capture();
      s.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'HTTP',
        CorsConfiguration: Match.objectLike({
          AllowOrigins: origins,
          AllowHeaders: ['authorization', 'content-type'],
        }),
      });
      const value = origins.asArray();
      expect(value).toHaveLength(1);
      expect(JSON.stringify(value[0])).toContain('DomainName');
      s.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        DefaultRouteSettings: Match.objectLike({ ThrottlingBurstLimit: 400, ThrottlingRateLimit: 200 }),
      });
    });
  });

  describe('Streaming (MSK Serverless, IAM)', () => {
    it('creates a serverless cluster with IAM client auth', () => {
      s.template.hasResourceProperties('AWS::MSK::ServerlessCluster', {
        ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
      });
    });

    it('gives the consumer the kafka-cluster data-plane permissions, scoped to cluster, topic and group', () => {
      const st = roleStatements('persistFanout');
      const actions = st.flatMap(actionsOf);
      for (const a of [
        'kafka-cluster:Connect',
        'kafka-cluster:DescribeClusterDynamicConfiguration',
        'kafka-cluster:DescribeTopic',
        'kafka-cluster:ReadData',
        'kafka-cluster:DescribeGroup',
        'kafka-cluster:AlterGroup',
      ]) {
        expect(actions, a).toContain(a);
      }
      const groupStatement = st.find((x) => actionsOf(x).includes('kafka-cluster:AlterGroup'));
      expect(JSON.stringify(groupStatement?.Resource)).toContain('group/');
      expect(JSON.stringify(groupStatement?.Resource)).toContain(`/chat-${kafkaConsumers[0]?.fn}`);
      for (const x of st.filter((y) => actionsOf(y).some((a) => a.startsWith('kafka-cluster:')))) {
        expect(x.Resource).not.toBe('*');
      }
    });

    it('lets producers write the messages and dead-letter topics only', () => {
      const producers = (Object.keys(functionDefs) as FunctionName[]).filter((n) =>
        (functionDefs[n].uses as readonly string[]).includes('kafkaProduce'),
      );
      for (const name of producers) {
        const write = roleStatements(name).find((x) => actionsOf(x).includes('kafka-cluster:WriteData'));
        const arns = JSON.stringify(write?.Resource);
        expect(arns, name).toContain(`/${topics.messages.defaultName}`);
        expect(arns, name).toContain(`/${topics.deadLetter.defaultName}`);
      }
      expect(hasAction('wsPing', 'kafka-cluster:WriteData')).toBe(false);
    });

    it('creates the topics at deploy time from the contract definitions', () => {
      s.template.hasResourceProperties('Custom::KafkaTopics', { Topics: JSON.stringify(topics) });
    });
  });

  describe('MessagePersister', () => {
    const consumer = kafkaConsumers[0];
    it('maps the Kafka consumer with batching window 0, the table batch size and starting position', () => {
      expect(consumer).toBeDefined();
      s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: fnLogicalId('persistFanout') },
        Topics: [topics.messages.defaultName],
        BatchSize: consumer?.batchSize,
        MaximumBatchingWindowInSeconds: 0,
        StartingPosition: consumer?.startingPosition,
        AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: `chat-${consumer?.fn}` },
      });
    });

    it('retries a failing batch until the records expire (no retry budget), then sends it to an SQS queue', () => {
      const dlq = new Capture();
      s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlq, 'Arn'] } } },
        MaximumRetryAttempts: Match.absent(),
        BisectBatchOnFunctionError: Match.absent(),
        ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 2 },
      });
      expect(s.json.Resources[dlq.asString()]?.Type).toBe('AWS::SQS::Queue');
    });
  });
});
