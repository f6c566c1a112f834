import { describe, expect, it } from 'vitest';
import { ConfigError, keyspaceNameFor, resolveConfig } from '../lib/config.ts';

const node = (ctx: Record<string, unknown>) => ({ tryGetContext: (k: string) => ctx[k] });

describe('When the context is resolved', () => {
  it('defaults to MSK Serverless, provisioned Keyspaces, a NAT gateway and provisioned pollers', () => {
    const c = resolveConfig(node({}));
    expect(c.profile).toBe('default');
    expect(c.streaming.kind).toBe('msk-serverless');
    expect(c.database).toEqual({ kind: 'keyspaces', capacity: 'provisioned' });
    expect(c.apiGatewayAccountRole).toBe(true);
    expect(c.accessLogging).toBe(true);
    expect(c.network).toMatchObject({ nat: 'gateway', natGateways: 1, interfaceEndpoints: true });
    expect(c.kafkaConsumer).toEqual({ provisionedPollers: { min: 1, max: 2 } });
    expect(c.missingEntries).toBe('fail');
  });

  it('rejects lean without the existing Kafka, naming every missing key in one error', () => {
    const attempt = () => resolveConfig(node({ profile: 'lean' }));
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/kafkaBootstrapServers[\s\S]*kafkaScramSecretArn/);
  });

  it('rejects a NAT gateway in lean and MSK without interface endpoints', () => {
    expect(() =>
      resolveConfig(
        node({
          profile: 'lean',
          nat: 'gateway',
          kafkaBootstrapServers: 'b:9092',
          kafkaScramSecretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:x-AbCdEf',
        }),
      ),
    ).toThrow(/lean profile has no NAT gateway/);
    expect(() => resolveConfig(node({ interfaceEndpoints: 'false' }))).toThrow(
      /MSK Serverless needs the interface/,
    );
  });

  it('switches the database to existing CQL contact points', () => {
    const c = resolveConfig(
      node({ cqlContactPoints: '10.0.0.1, 10.0.0.2', cqlLocalDc: 'dc1', cqlTls: 'true' }),
    );
    expect(c.database).toEqual({
      kind: 'cql',
      keyspace: 'chat',
      contactPoints: ['10.0.0.1', '10.0.0.2'],
      port: 9042,
      localDc: 'dc1',
      tls: true,
    });
  });

  it('rejects malformed values', () => {
    expect(() => resolveConfig(node({ profile: 'huge' }))).toThrow(/"profile"/);
    expect(() => resolveConfig(node({ natGateways: '7' }))).toThrow(/natGateways/);
    expect(() =>
      resolveConfig(node({ kafkaBootstrapServers: 'not a host', kafkaScramSecretArn: 'x' })),
    ).toThrow(/not host:port[\s\S]*not a Secrets Manager ARN|not a Secrets Manager ARN[\s\S]*not host:port/);
  });

  it('turns access logging off with the account role unless asked, and names keyspaces after stacks', () => {
    const off = resolveConfig(node({ apiGatewayAccountRole: 'false' }));
    expect([off.apiGatewayAccountRole, off.accessLogging]).toEqual([false, false]);
    const orgRole = resolveConfig(node({ apiGatewayAccountRole: 'false', accessLogging: 'true' }));
    expect([orgRole.apiGatewayAccountRole, orgRole.accessLogging]).toEqual([false, true]);
    expect(resolveConfig(node({ keyspace: 'chat_prod' })).database.keyspace).toBe('chat_prod');
    expect(keyspaceNameFor('Chat')).toBe('chat');
    expect(keyspaceNameFor('Chat-Staging')).toBe('chat_staging');
    expect(keyspaceNameFor('2nd')).toBe('ks_2nd');
  });

  it("defaults the event source of an existing Kafka to the producers' SCRAM mechanism, SCRAM-SHA-256", () => {
    // functions/src/adapters/kafka/scram-mechanism.test.ts holds the producers to the same default.
    const c = resolveConfig(
      node({
        profile: 'lean',
        kafkaBootstrapServers: 'b:9092',
        kafkaScramSecretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:x-AbCdEf',
      }),
    );
    expect(c.streaming).toMatchObject({ kind: 'self-managed', mechanism: 'SCRAM-SHA-256' });
  });
});
