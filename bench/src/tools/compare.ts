/**
 * Two bench results side by side, phase by phase (same phase names), e.g. the bench's own runtime against
 * `npm start` under the same load (`--target`): issue 13 wants `npm start` within 20 % of the bench.
 *
 *   npx tsx bench/src/tools/compare.ts <bench.json> <npm-start.json> [--within 20]
 */
import { readFileSync } from 'node:fs';
import { numberFlag, parseCommandLine, type UsageFailure, usageFailure } from '@chat/kit/cli';
import type { BenchReport } from '../bench.ts';
import { HOPS } from '../hops.ts';
import { fmt, table } from '../report.ts';

const fail: UsageFailure = usageFailure(
  'compare',
  `usage: npx tsx bench/src/tools/compare.ts <a.json> <b.json> [--within percent]
  --within  how far B may be from A on the checked rows, in percent (default 20)`,
);
const { positionals, values } = parseCommandLine(
  {
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { within: { type: 'string', default: '20' } },
  },
  fail,
);
const [fileA, fileB] = positionals;
if (!fileA || !fileB) fail('two result files are needed');
const within = numberFlag(values.within, '--within', fail, { inclusive: true }) / 100;
const a = JSON.parse(readFileSync(fileA, 'utf8')) as BenchReport;
const b = JSON.parse(readFileSync(fileB, 'utf8')) as BenchReport;

/** Lower is better for latencies and CPU; higher for rates. */
type Row = {
  metric: string;
  a: number | null;
  b: number | null;
  higherIsBetter?: boolean;
  checked?: boolean;
};

const out: string[] = [
  `A: ${fileA} (${a.runtime}, load avg ${a.machine.loadAvg1m} at the end)`,
  `B: ${fileB} (${b.runtime}, load avg ${b.machine.loadAvg1m} at the end)`,
];
let allWithin = true;
for (const pa of a.phases) {
  const pb = b.phases.find((p) => p.name === pa.name);
  if (!pa.load || !pb?.load) continue;
  const la = pa.load;
  const lb = pb.load;
  const rows: Row[] = [
    {
      metric: 'achieved send rate msg/s',
      a: la.achievedSendRate,
      b: lb.achievedSendRate,
      higherIsBetter: true,
    },
    { metric: 'send→ack p50 ms', a: la.ackLatencyMs.p50, b: lb.ackLatencyMs.p50 },
    { metric: 'send→ack p99 ms', a: la.ackLatencyMs.p99, b: lb.ackLatencyMs.p99 },
    {
      metric: 'send→delivery p50 ms',
      a: la.deliveryLatencyMs.p50,
      b: lb.deliveryLatencyMs.p50,
      checked: true,
    },
    {
      metric: 'send→delivery p99 ms',
      a: la.deliveryLatencyMs.p99,
      b: lb.deliveryLatencyMs.p99,
      checked: true,
    },
    ...HOPS.map((h) => ({
      metric: `  hop ${h} p50 ms`,
      a: la.hopsMs?.[h]?.p50 ?? null,
      b: lb.hopsMs?.[h]?.p50 ?? null,
    })),
    {
      metric: 'persisted msg/s',
      a: la.persistedMsgPerSec,
      b: lb.persistedMsgPerSec,
      higherIsBetter: true,
      checked: true,
    },
    {
      metric: 'runtime CPU % (avg)',
      a: pa.resources.find((r) => r.name === 'runtime')?.avgCpuPct ?? null,
      b: pb.resources.find((r) => r.name === 'runtime')?.avgCpuPct ?? null,
    },
    {
      metric: 'CPU ms per message, all in',
      a: pa.cpuPerMessage?.allInMs ?? null,
      b: pb.cpuPerMessage?.allInMs ?? null,
      checked: true,
    },
    { metric: 'machine load avg (mean)', a: pa.loadAvg?.mean ?? null, b: pb.loadAvg?.mean ?? null },
    { metric: 'LOST', a: la.lost, b: lb.lost },
    { metric: 'DUPLICATED', a: la.duplicated, b: lb.duplicated },
  ];
  out.push('', `phase ${pa.name}`);
  out.push(
    table(
      ['metric', 'A', 'B', 'B / A', `B within ${fmt(within * 100, 0)} % of A`],
      rows.map((r) => {
        const ratio = r.a && r.b !== null ? r.b / r.a : null;
        // "Within" = not worse than A by more than the margin (better is fine).
        const ok = ratio === null ? null : r.higherIsBetter ? ratio >= 1 - within : ratio <= 1 + within;
        if (r.checked && ok === false) allWithin = false;
        return [
          r.metric,
          fmt(r.a, 2),
          fmt(r.b, 2),
          ratio === null ? '—' : fmt(ratio, 2),
          r.checked ? (ok === null ? '?' : ok ? 'yes' : 'NO') : '',
        ];
      }),
    ),
  );
}
out.push('', `B within ${fmt(within * 100, 0)} % of A on the checked rows: ${allWithin ? 'yes' : 'no'}`);
process.stdout.write(`${out.join('\n')}\n`);
