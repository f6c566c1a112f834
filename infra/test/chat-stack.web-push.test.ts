/**
 * Web Push on AWS (issue 15): the VAPID key pair generated at deploy into Secrets Manager, its public key in
 * config.json, the webPush consumer on the notifications topic (DLQ), the secret readable by it alone, the
 * endpoint allowlist from context, and no loopback endpoints on AWS.
 */
import { DEFAULT_PUSH_HOSTS, topics } from '@chat/functions/contracts';
import { type FunctionName, functionDefs } from '@chat/functions/routes';
import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../lib/config.ts';
import {
  actionsOf,
  functionEnv,
  functionLogicalId,
  functionRoleStatements,
  resourcesOf,
  siteDeployments,
} from './helpers.ts';
import { type Synthesized, synthChatStack } from './synth.ts';

let s: Synthesized;
beforeAll(() => {
  s = synthChatStack({ context: { pushEndpointHosts: 'fcm.googleapis.com,*.push.example.org' } });
});

const names = Object.keys(functionDefs) as FunctionName[];
const vapidSecretId = () => s.stack.getLogicalId(s.stack.vapidKeys.secret.node.defaultChild as never);
const readsVapidSecret = (name: FunctionName) =>
  functionRoleStatements(s, name).some(
    (st) =>
      actionsOf(st).includes('secretsmanager:GetSecretValue') &&
      JSON.stringify(resourcesOf(st)).includes(vapidSecretId()),
  );

describe('Web Push in the stack', () => {
  it('generates the VAPID key pair at deploy (custom resource over its secret) and publishes the public key', () => {
    s.template.hasResourceProperties('Custom::VapidKeys', { SecretArn: { Ref: vapidSecretId() } });
    const resourceId = s.stack.getLogicalId(s.stack.vapidKeys.resource.node.defaultChild as never);
    const { config } = siteDeployments(s.json);
    // config.json's content is rendered at deploy time from markers; the VAPID resource's PublicKey is one.
    const markers = JSON.stringify(config?.props.SourceMarkers);
    expect(markers).toContain(resourceId);
    expect(markers).toContain('PublicKey');
  });

  it('only the webPush function (and its generator) can read the VAPID secret', () => {
    expect(names.filter(readsVapidSecret)).toEqual(['webPush']);
    const env = functionEnv(s, 'webPush');
    expect(env.VAPID_KEYS_SECRET_ARN).toEqual({ Ref: vapidSecretId() });
    expect(env.VAPID_SUBJECT).toBe('mailto:push@chat.invalid');
  });

  it('runs webPush in the private subnets with egress (the NAT) and an all-outbound security group', () => {
    const fn = s.json.Resources[functionLogicalId(s, 'webPush')]?.Properties ?? {};
    const vpc = fn.VpcConfig as { SubnetIds: unknown[]; SecurityGroupIds: unknown[] };
    expect(vpc.SubnetIds.length).toBeGreaterThan(0);
    const privateSubnets = s.stack.network.vpc.privateSubnets.map((x) =>
      s.stack.getLogicalId(x.node.defaultChild as never),
    );
    expect(vpc.SubnetIds).toEqual(privateSubnets.map((id) => ({ Ref: id })));
    s.template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('Chat Lambda functions'),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0' })],
    });
  });

  it('consumes the notifications topic with its own event source, consumer group and DLQ', () => {
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionLogicalId(s, 'webPush') },
      Topics: [topics.notifications.defaultName],
      MaximumBatchingWindowInSeconds: 0,
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'chat-webPush' },
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    // persistFanout produces the notification records: the topic is in every producer's environment.
    expect(functionEnv(s, 'persistFanout').KAFKA_TOPIC_NOTIFICATIONS).toBe(topics.notifications.defaultName);
  });

  it('carries the endpoint allowlist from context, and never allows loopback endpoints', () => {
    for (const name of ['webPush', 'httpNotifications'] as const)
      expect(functionEnv(s, name).PUSH_ENDPOINT_HOSTS).toBe('fcm.googleapis.com,*.push.example.org');
    for (const name of names) expect(functionEnv(s, name).PUSH_ALLOW_LOOPBACK, name).toBeUndefined();
    expect(JSON.stringify(s.json)).not.toContain('PUSH_ALLOW_LOOPBACK');
  });
});

describe('Web Push context', () => {
  const config = (context: Record<string, unknown>) =>
    resolveConfig(new App({ context: { missingEntries: 'stub', ...context } }).node);
  it('defaults to the browsers’ push services', () => {
    expect(config({}).webPush).toEqual({
      endpointHosts: [...DEFAULT_PUSH_HOSTS],
      subject: 'mailto:push@chat.invalid',
    });
  });
  it.each([
    [{ pushEndpointHosts: '127.0.0.1' }, /pushEndpointHosts/],
    [{ pushEndpointHosts: 'localhost' }, /pushEndpointHosts/],
    [{ pushEndpointHosts: 'http://fcm.googleapis.com' }, /pushEndpointHosts/],
    [{ vapidSubject: 'ops@example.org' }, /vapidSubject/],
  ])('refuses %o', (context, problem) => {
    expect(() => config(context)).toThrow(problem);
  });
});
