import { topics } from '@chat/functions/contracts';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { estimateCost } from '../lib/cost/estimate.ts';
import { cfnLint, describeFindings } from './cfn-lint.ts';
import { resourcesOfType } from './helpers.ts';
import { type Synthesized, synthChatStack } from './synth.ts';

const scramSecretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat/redpanda-AbCdEf';
let s: Synthesized;

beforeAll(() => {
  s = synthChatStack({
    context: {
      profile: 'lean',
      kafkaBootstrapServers: 'seed-1.redpanda.example.com:9092,seed-2.redpanda.example.com:9092',
      kafkaScramSecretArn: scramSecretArn,
    },
  });
});

describe('When the lean profile is synthesized', () => {
  it('consumes the existing Kafka through a self-managed event source with SASL/SCRAM, window 0 and a DLQ', () => {
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      SelfManagedEventSource: {
        Endpoints: {
          KafkaBootstrapServers: ['seed-1.redpanda.example.com:9092', 'seed-2.redpanda.example.com:9092'],
        },
      },
      SourceAccessConfigurations: [{ Type: 'SASL_SCRAM_256_AUTH', URI: scramSecretArn }],
      Topics: [topics.messages.defaultName],
      MaximumBatchingWindowInSeconds: 0,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('uses on-demand pollers (no always-on poller charge), so no retry bound can be set', () => {
    const [[, esm] = []] = resourcesOfType(s.json, 'AWS::Lambda::EventSourceMapping');
    expect(esm?.Properties?.ProvisionedPollerConfig).toBeUndefined();
    expect(esm?.Properties?.MaximumRetryAttempts).toBeUndefined();
  });

  it('has no MSK cluster and gives producers the SCRAM secret instead of kafka-cluster permissions', () => {
    s.template.resourceCountIs('AWS::MSK::ServerlessCluster', 0);
    expect(JSON.stringify(s.json)).not.toContain('kafka-cluster:');
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ KAFKA_AUTH: 'scram', KAFKA_SCRAM_SECRET_ARN: scramSecretArn }),
      },
    });
  });

  it('creates Keyspaces tables on demand', () => {
    s.template.allResourcesProperties('AWS::Cassandra::Table', { BillingMode: { Mode: 'ON_DEMAND' } });
    expect(resourcesOfType(s.json, 'AWS::Cassandra::Table').length).toBe(s.stack.database.tableDefs.length);
  });

  it('has no NAT gateway (a NAT instance) and no interface endpoints', () => {
    s.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    s.template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    s.template.hasResourceProperties('AWS::EC2::Instance', {
      InstanceType: 't4g.nano',
      SourceDestCheck: false,
    });
  });

  it('costs little idle: no MSK, no NAT gateway, no endpoints, no provisioned capacity', () => {
    const e = estimateCost(s.json);
    const items = e.idleLines.map((l) => l.item).join('\n');
    expect(items).not.toMatch(/MSK|NAT gateway|interface endpoints|Keyspaces provisioned|pollers/);
    expect(e.idleMonthly).toBeLessThan(30);
    expect(e.notes.join(' ')).toMatch(/existing cluster/);
  });

  it('has zero unacknowledged cdk-nag findings', () => {
    expect(s.nag.violations.map((v) => v.ruleName)).toEqual([]);
  });

  // cfn-lint takes 10-40 s on the shared 2-core machine (more on first use, when pip installs it).
  it('is clean under cfn-lint', { timeout: 300_000 }, () => {
    expect(describeFindings(cfnLint(s.json, 'lean'))).toEqual([]);
  });
});
