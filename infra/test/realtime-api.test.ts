import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { RealtimeApi, type RealtimeApiProps } from '../lib/constructs/realtime-api.ts';

// The construct alone (cheap): the whole-stack default is asserted in chat-stack.default.test.ts.
const synth = (props: Partial<RealtimeApiProps>) => {
  const stack = new Stack(new App(), 'S');
  new RealtimeApi(stack, 'Realtime', { throttle: { rateLimit: 1, burstLimit: 1 }, ...props });
  return Template.fromStack(stack);
};

describe('When the account-level API Gateway CloudWatch role is managed elsewhere', () => {
  it('creates no AWS::ApiGateway::Account and, unless asked, no stage access logs', () => {
    const t = synth({ accountRole: false, accessLogging: false });
    t.resourceCountIs('AWS::ApiGateway::Account', 0);
    t.resourceCountIs('AWS::Logs::LogGroup', 0);
    const [stage] = Object.values(t.findResources('AWS::ApiGatewayV2::Stage'));
    expect(stage?.Properties?.AccessLogSettings).toBeUndefined();
  });

  it('keeps access logs when the organization provides the role (-c accessLogging=true)', () => {
    const t = synth({ accountRole: false, accessLogging: true });
    t.resourceCountIs('AWS::ApiGateway::Account', 0);
    const [stage] = Object.values(t.findResources('AWS::ApiGatewayV2::Stage'));
    expect(stage?.Properties?.AccessLogSettings).toBeDefined();
  });
});
