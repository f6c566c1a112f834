import { Capture, Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { functionEnv, functionHasAction, functionLogicalId, resourcesOfType } from './helpers.ts';
import { type Synthesized, synthChatStack } from './synth.ts';

/**
 * Issue 14 on AWS: the editMessage, deleteMessage and react routes go to one function that may produce to
 * Kafka and read the store, and the reactions table exists on Keyspaces with client-side timestamps (its cells
 * are written USING TIMESTAMP the change clock: docs/adr/0008-message-changes.md).
 */
let s: Synthesized;

beforeAll(() => {
  s = synthChatStack();
});

describe('Message changes (edit, delete, react)', () => {
  it('routes the three actions to the wsChangeMessage function, each with a route response', () => {
    const fn = functionLogicalId(s, 'wsChangeMessage');
    for (const routeKey of ['editMessage', 'deleteMessage', 'react']) {
      const integration = new Capture();
      s.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey,
        Target: Match.objectLike({ 'Fn::Join': ['', ['integrations/', { Ref: integration }]] }),
        RouteResponseSelectionExpression: '$default',
      });
      const uri = JSON.stringify(s.json.Resources[integration.asString()]?.Properties?.IntegrationUri);
      expect(uri, routeKey).toContain(fn);
    }
  });

  it('gives that function Kafka produce settings and Keyspaces reads, and no push permission', () => {
    const env = functionEnv(s, 'wsChangeMessage');
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['KAFKA_BROKERS', 'KAFKA_TOPIC_MESSAGES']));
    expect(functionHasAction(s, 'wsChangeMessage', 'cassandra:Select')).toBe(true);
    expect(functionHasAction(s, 'wsChangeMessage', 'execute-api:ManageConnections')).toBe(false);
  });

  it('creates the message_reactions table, clustered by message, emoji and user, with client-side timestamps', () => {
    const table = resourcesOfType(s.json, 'AWS::Cassandra::Table')
      .map(([, r]) => r.Properties ?? {})
      .find((p) => p.TableName === 'message_reactions');
    expect(table).toBeDefined();
    expect(table?.ClientSideTimestampsEnabled).toBe(true);
    expect(JSON.stringify(table?.ClusteringKeyColumns)).toContain('"emoji"');
    const messages = resourcesOfType(s.json, 'AWS::Cassandra::Table')
      .map(([, r]) => r.Properties ?? {})
      .find((p) => p.TableName === 'messages');
    const columns = JSON.stringify(messages?.RegularColumns);
    for (const c of ['edited_at', 'deleted_at', 'reply_to', 'reply_to_sender'])
      expect(columns).toContain(`"${c}"`);
  });
});
