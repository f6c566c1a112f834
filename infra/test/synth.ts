import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type PolicyValidationPluginReport, type RemovalPolicy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ChatStack } from '../lib/chat-stack.ts';
import { resolveConfig } from '../lib/config.ts';

export interface SynthOptions {
  /** Extra CDK context (profile, kafkaBootstrapServers, …). */
  readonly context?: Record<string, unknown>;
  /**
   * Run esbuild for every function (as `cdk synth` does). Off: assets are not bundled (CDK's own
   * `aws:cdk:bundling-stacks` switch), which is all a template assertion needs.
   * @default false
   */
  readonly bundle?: boolean;
  /** What `cdk destroy` does with the data (`-c removeDataOnDestroy=true` ⇒ DESTROY); default RETAIN. */
  readonly dataRemovalPolicy?: RemovalPolicy;
  /** Account and Region of the stack (lookups need them); none ⇒ env-agnostic. */
  readonly env?: { readonly account: string; readonly region: string };
}

export interface Synthesized {
  readonly app: App;
  readonly stack: ChatStack;
  readonly template: Template;
  /** The synthesized CloudFormation JSON. */
  readonly json: Record<string, unknown> & {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  };
  /** cdk-nag AwsSolutions findings that were not acknowledged. */
  readonly nag: PolicyValidationPluginReport;
}

/**
 * One synthesis of the chat stack, env-agnostic like `cdk synth` without credentials. Missing handler entry
 * files are stubbed (context missingEntries=stub, test only) so the infra tests do not depend on the
 * progress of the handler work; the real app refuses that context.
 */
export function synthChatStack(opts: SynthOptions = {}): Synthesized {
  const app = new App({
    outdir: mkdtempSync(path.join(tmpdir(), 'chat-cdk-')),
    context: {
      missingEntries: 'stub',
      ...(opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...opts.context,
    },
  });
  const config = resolveConfig(app.node);
  const stack = new ChatStack(app, 'ChatTest', {
    config,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.dataRemovalPolicy ? { dataRemovalPolicy: opts.dataRemovalPolicy } : {}),
  });
  const template = Template.fromStack(stack);
  const nag = new AwsSolutionsChecks(app, { verbose: false }).validateScope(stack);
  return { app, stack, template, json: template.toJSON() as Synthesized['json'], nag };
}
