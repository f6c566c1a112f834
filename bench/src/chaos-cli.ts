/**
 * `npm run chaos -- [--only a,b] [--short] [-C n] [-R msg/s] [--fuzz-frames n]`
 * Destructive: it kills and restarts the shared services (through the services manager). Run it sparingly.
 */
import { parseArgs } from 'node:util';
import { type ChaosStep, chaosSummary, chaosVariants, runChaos } from './chaos-run.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    short: { type: 'boolean', default: false },
    only: { type: 'string' },
    connections: { type: 'string', short: 'C' },
    rate: { type: 'string', short: 'R' },
    'fuzz-frames': { type: 'string' },
    seed: { type: 'string' },
  },
});
const o = structuredClone(chaosVariants[values.short ? 'short' : 'full']);
o.write = true;
if (values.only) o.steps = values.only.split(',') as ChaosStep[];
if (values.connections) o.connections = Number(values.connections);
if (values.rate) o.rate = Number(values.rate);
if (values['fuzz-frames']) o.fuzzFrames = Number(values['fuzz-frames']);
if (values.seed) o.seed = Number(values.seed);
const { report, file } = await runChaos(o);
process.stdout.write(`\n${chaosSummary(report)}\n`);
if (file) process.stdout.write(`\nresults: ${file}\n`);
process.exit(report.ok ? 0 : 1);
