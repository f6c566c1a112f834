import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resourcesOfType } from './helpers.ts';
import { type Synthesized, synthChatStack } from './synth.ts';

// What `cdk synth` with credentials records in cdk.context.json (the AZs and the NAT instance AMI), read back
// as the CLI passes it on every later synth.
const recorded = JSON.parse(
  readFileSync(new URL('./fixtures/cdk.context.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const amiKey = Object.keys(recorded).find((k) => k.startsWith('ssm:')) ?? '';
let s: Synthesized;

beforeAll(() => {
  s = synthChatStack({
    env: { account: '123456789012', region: 'eu-west-1' },
    context: {
      ...recorded,
      profile: 'lean',
      kafkaBootstrapServers: 'seed-1.redpanda.example.com:9092',
      kafkaScramSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat/redpanda-AbCdEf',
      apiGatewayAccountRole: 'false',
    },
  });
});

describe('When the lean profile is synthesized for an account and Region with a recorded context', () => {
  it('runs the NAT instance on the AMI recorded in cdk.context.json, not an AMI resolved at every deploy', () => {
    expect(amiKey).toContain('al2023-ami-kernel-6.1-arm64');
    const [[, nat] = []] = resourcesOfType(s.json, 'AWS::EC2::Instance');
    expect(nat?.Properties?.ImageId).toBe(recorded[amiKey]);
    expect(JSON.stringify(s.json.Parameters ?? {})).not.toContain('ami-amazon-linux-latest');
    expect(s.app.synth().manifest.missing ?? []).toEqual([]);
  });

  it('leaves the account-level API Gateway role to the organization and logs no stage access', () => {
    s.template.resourceCountIs('AWS::ApiGateway::Account', 0);
    const [[, stage] = []] = resourcesOfType(s.json, 'AWS::ApiGatewayV2::Stage').filter(
      ([, r]) => r.Properties?.StageName === 'prod',
    );
    expect(stage?.Properties?.AccessLogSettings).toBeUndefined();
  });

  it('has zero unacknowledged cdk-nag findings', () => {
    expect(s.nag.violations.map((v) => v.ruleName)).toEqual([]);
  });
});
