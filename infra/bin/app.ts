#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth|deploy` (cdk.json at the repo root runs this with tsx).
 * Profile and overrides come from context: `-c profile=lean -c kafkaBootstrapServers=… -c kafkaScramSecretArn=…`.
 */
import { App, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ChatStack } from '../lib/chat-stack.ts';
import { ConfigError, resolveConfig } from '../lib/config.ts';

const app = new App();
let config: ReturnType<typeof resolveConfig>;
try {
  config = resolveConfig(app.node);
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
if (config.missingEntries !== 'fail') {
  console.error('context "missingEntries" is for tests only: the app always bundles the real handlers');
  process.exit(1);
}

const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'Chat';
new ChatStack(app, stackName, {
  config,
  // Chat history survives `cdk destroy` unless asked otherwise (-c removeDataOnDestroy=true).
  dataRemovalPolicy:
    app.node.tryGetContext('removeDataOnDestroy') === 'true' ||
    app.node.tryGetContext('removeDataOnDestroy') === true
      ? RemovalPolicy.DESTROY
      : RemovalPolicy.RETAIN,
  description: `Serverless real-time chat (profile ${config.profile})`,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
