/**
 * `npm run cost`: idle monthly cost and cost per million messages (at 2 and 10 recipients) of each profile,
 * computed from the synthesized templates and the dated price table (infra/lib/cost/prices.ts).
 * `--markdown` prints only the summary table (what README.md and docs/cost.md show).
 */
import { parseCommandLine, usageFailure } from '@chat/kit/cli';
import { App } from 'aws-cdk-lib';
import { ChatStack } from '../lib/chat-stack.ts';
import { resolveConfig } from '../lib/config.ts';
import { assumptions, type CostEstimate, estimateCost, type TemplateJson } from '../lib/cost/estimate.ts';
import { prices } from '../lib/cost/prices.ts';

const USAGE = `usage: npm run cost -- [--markdown]
  --markdown  print only the summary table (what README.md and docs/cost.md show)`;

// before the (slow) synthesis: a mistaken flag fails at once
const { values: args } = parseCommandLine(
  { args: process.argv.slice(2), options: { markdown: { type: 'boolean', default: false } } },
  usageFailure('cost', USAGE),
);

const profiles: Record<string, Record<string, string>> = {
  default: {},
  // Placeholder endpoints: the lean profile needs an existing Kafka to synthesize; cost does not depend on it.
  lean: {
    profile: 'lean',
    kafkaBootstrapServers: 'kafka.example.com:9092',
    kafkaScramSecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:chat/kafka-AbCdEf',
  },
};

function synthesize(context: Record<string, string>): TemplateJson {
  // Counting resources needs no bundles: CDK's own switch skips esbuild.
  const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const stack = new ChatStack(app, 'ChatCost', { config: resolveConfig(app.node) });
  return app.synth().getStackByName(stack.stackName).template as TemplateJson;
}

const usd = (n: number): string => `$${n < 10 ? n.toFixed(2) : n.toFixed(0)}`;

const results: [string, CostEstimate][] = Object.entries(profiles).map(([name, ctx]) => [
  name,
  estimateCost(synthesize(ctx)),
]);

const table = [
  '| profile | idle / month | per 1M messages, 2 recipients | per 1M messages, 10 recipients |',
  '|---|---:|---:|---:|',
  ...results.map(
    ([name, e]) =>
      `| ${name} | ${usd(e.idleMonthly)} | ${usd(e.perMillion[2] ?? 0)} | ${usd(e.perMillion[10] ?? 0)} |`,
  ),
].join('\n');

if (args.markdown) {
  console.log(table);
} else {
  console.log(
    `Prices: ${prices.region}, ${prices.currency}, recorded ${prices.asOf} (infra/lib/cost/prices.ts)\n`,
  );
  console.log(table);
  for (const [name, e] of results) {
    console.log(`\n## ${name}\n\nIdle, per month:`);
    for (const l of e.idleLines) console.log(`  ${usd(l.usd).padStart(8)}  ${l.item}`);
    for (const r of [2, 10]) {
      console.log(`Per million messages, ${r} recipients:`);
      for (const l of e.perMillionLines[r] ?? []) console.log(`  ${usd(l.usd).padStart(8)}  ${l.item}`);
    }
    for (const n of e.notes) console.log(`Note: ${n}`);
    if (e.unverified.length) console.log(`Unverified prices: ${e.unverified.join('; ')}`);
  }
  console.log('\nAssumptions (per message):', JSON.stringify(assumptions));
}
