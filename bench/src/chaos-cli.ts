/**
 * `npm run chaos -- [--only a,b] [--short] [-C n] [-R msg/s] [--fuzz-frames n] [--seed n]`
 * Destructive: it kills and restarts the shared services (through the services manager). Run it sparingly.
 */
import { numberFlag, parseCommandLine, type UsageFailure, usageFailure } from '@chat/kit/cli';
import { type ChaosStep, chaosSummary, chaosVariants, runChaos } from './chaos-run.ts';

const STEPS = chaosVariants.full.steps;

const CHAOS_USAGE = `usage: npm run chaos -- [--short] [--only step,step] [-C connections] [-R msg/s] [--fuzz-frames n] [--seed n]
  --short        the variant inside npm test: ${chaosVariants.short.steps.join(', ')} (shared services untouched)
  --only         run only these steps, in this order, of: ${STEPS.join(', ')}
  -C, -R         the steady load through every fault (full: ${chaosVariants.full.connections} connections at ${chaosVariants.full.rate} msg/s)
  --fuzz-frames  generated frames in the fuzz step (full: ${chaosVariants.full.fuzzFrames})
  --seed         the fuzzer's seed (same seed, same frames)
Destructive: kafka-kill9, cassandra-restart and redis-restart stop the services everyone on this machine shares.`;

const fail: UsageFailure = usageFailure('chaos', CHAOS_USAGE);
const { values } = parseCommandLine(
  {
    args: process.argv.slice(2),
    options: {
      short: { type: 'boolean', default: false },
      only: { type: 'string' },
      connections: { type: 'string', short: 'C' },
      rate: { type: 'string', short: 'R' },
      'fuzz-frames': { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  },
  fail,
);
if (values.help) {
  process.stdout.write(`${CHAOS_USAGE}\n`);
  process.exit(0);
}
const o = structuredClone(chaosVariants[values.short ? 'short' : 'full']);
o.write = true;
if (values.only !== undefined) {
  const asked = values.only.split(',').filter((s) => s !== '');
  const unknown = asked.filter((s) => !(STEPS as readonly string[]).includes(s));
  if (asked.length === 0) fail('--only needs at least one step');
  if (unknown.length > 0) fail(`--only: no step named ${unknown.map((s) => `'${s}'`).join(', ')}`);
  o.steps = asked as ChaosStep[];
}
o.connections = numberFlag(values.connections, '-C', fail, { integer: true }) ?? o.connections;
o.rate = numberFlag(values.rate, '-R', fail) ?? o.rate;
o.fuzzFrames = numberFlag(values['fuzz-frames'], '--fuzz-frames', fail, { integer: true }) ?? o.fuzzFrames;
o.seed = numberFlag(values.seed, '--seed', fail, { integer: true, inclusive: true }) ?? o.seed;
const { report, file } = await runChaos(o);
process.stdout.write(`\n${chaosSummary(report)}\n`);
if (file) process.stdout.write(`\nresults: ${file}\n`);
process.exit(report.ok ? 0 : 1);
