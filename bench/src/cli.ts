/** `npm run bench -- [flags]`: see profiles.ts for the flags. */
import { type UsageFailure, usageErrorMessage, usageFailure } from '@chat/kit/cli';
import { runBench } from './bench.ts';
import { humanSummary } from './bench-summary.ts';
import { type CliOptions, parseCli } from './profiles.ts';

const fail: UsageFailure = usageFailure('bench', 'the flags: npm run bench -- --help');
let opts: CliOptions;
try {
  opts = parseCli(process.argv.slice(2));
} catch (e) {
  // a mistake in the flags: one line and where the flags are, not a stack trace
  fail(usageErrorMessage(e));
}
const { report, file } = await runBench(opts);
process.stdout.write(`\n${humanSummary(report)}\n`);
if (file) process.stdout.write(`\nresults: ${file}\n`);
process.exit(report.ok ? 0 : 1);
