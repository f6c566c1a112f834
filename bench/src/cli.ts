/** `npm run bench -- [flags]`: see profiles.ts for the flags. */
import { runBench } from './bench.ts';
import { humanSummary } from './bench-summary.ts';
import { parseCli } from './profiles.ts';

const opts = parseCli(process.argv.slice(2));
const { report, file } = await runBench(opts);
process.stdout.write(`\n${humanSummary(report)}\n`);
if (file) process.stdout.write(`\nresults: ${file}\n`);
process.exit(report.ok ? 0 : 1);
