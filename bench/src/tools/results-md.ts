/**
 * Markdown tables from result files, for docs/benchmarks.md and the README:
 *
 *   npx tsx bench/src/tools/results-md.ts bench/results/bench-full-latest.json [bench/results/chaos-full-latest.json …]
 */
import { readFileSync } from 'node:fs';
import { parseCommandLine, type UsageFailure, usageFailure } from '@chat/kit/cli';
import type { BenchReport } from '../bench.ts';
import type { ChaosReport } from '../chaos-run.ts';
import { HOPS } from '../hops.ts';
import { fmt } from '../report.ts';

const row = (cells: (string | number | null | undefined)[]) =>
  `| ${cells.map((c) => (c === null || c === undefined ? '—' : String(c))).join(' | ')} |`;

function bench(r: BenchReport): string {
  const out: string[] = [];
  out.push(
    `**bench ${r.profile}**, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC, commit ${r.commit}, ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memGiB} GiB, Node ${r.machine.node}; setup ${r.setup.users} users, ${r.setup.conversations} conversations in ${r.setup.seconds} s.`,
    '',
  );
  if (r.baselines.length) {
    out.push('| raw baseline | p50 ms | p90 ms | p99 ms | max ms | n |', '|---|---|---|---|---|---|');
    for (const b of r.baselines) {
      out.push(
        b.ok
          ? row([
              b.name,
              fmt(b.latencyMs?.p50, 2),
              fmt(b.latencyMs?.p90, 2),
              fmt(b.latencyMs?.p99, 2),
              fmt(b.latencyMs?.max, 2),
              b.latencyMs?.count,
            ])
          : row([b.name, `failed: ${b.error}`, '', '', '', '']),
      );
    }
    out.push('');
  }
  out.push(
    '| phase | conns | target → sent msg/s | acked | ack p50 / p99 ms | delivery p50 / p90 / p99 / max ms | not delivered in 15 s | delivered msg/s | persisted msg/s | CPU ms/msg all in | LOST | DUP | held back | load avg |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const p of r.phases) {
    const l = p.load;
    if (l) {
      out.push(
        row([
          p.name,
          l.connections,
          `${l.targetRate} → ${l.achievedSendRate}`,
          l.acked,
          `${fmt(l.ackLatencyMs.p50)} / ${fmt(l.ackLatencyMs.p99)}`,
          `${fmt(l.deliveryLatencyMs.p50)} / ${fmt(l.deliveryLatencyMs.p90)} / ${fmt(l.deliveryLatencyMs.p99)} / ${fmt(l.deliveryLatencyMs.max)}`,
          l.notDeliveredWithin15sShare === undefined || l.notDeliveredWithin15sShare === null
            ? '—'
            : `${fmt(l.notDeliveredWithin15sShare * 100)} %`,
          l.deliveredMsgPerSec,
          l.persistedMsgPerSec,
          fmt(p.cpuPerMessage?.allInMs ?? null, 2),
          l.lost,
          l.duplicated,
          l.backpressuredSends,
          p.loadAvg?.mean,
        ]),
      );
    } else if (p.idle) {
      out.push(
        row([
          p.name,
          p.idle.connections,
          `idle (opened in ${p.idle.openSeconds} s)`,
          '',
          '',
          `runtime RSS ${fmt(p.idle.runtimeRssBeforeMb, 0)} → ${fmt(p.idle.runtimeRssAfterMb, 0)} MB (${p.idle.runtimeRssPerConnectionKb ?? '—'} KB/connection)`,
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          p.loadAvg?.mean,
        ]),
      );
    }
  }
  const hopRows = r.phases.flatMap((p) =>
    HOPS.filter((h) => p.load?.hopsMs?.[h]).map((h) => {
      const s = p.load?.hopsMs?.[h];
      return row([p.name, h, fmt(s?.p50 ?? null, 1), fmt(s?.p99 ?? null, 1), s?.count]);
    }),
  );
  if (hopRows.length)
    out.push('', '| phase | hop | p50 ms | p99 ms | n |', '|---|---|---|---|---|', ...hopRows);
  const cpuRows = r.phases.flatMap((p) =>
    p.cpuPerMessage
      ? [
          row([
            p.name,
            fmt(p.cpuPerMessage.allInMs, 2),
            p.cpuPerMessage.ranking.map((x) => `${x.part} ${fmt(x.ms, 2)}`).join(', '),
          ]),
        ]
      : [],
  );
  if (cpuRows.length)
    out.push(
      '',
      '| phase | CPU ms per message, all in | by part (largest first) |',
      '|---|---|---|',
      ...cpuRows,
    );
  out.push('', '| phase | process | peak RSS MB | avg CPU % | peak CPU % |', '|---|---|---|---|---|');
  for (const p of r.phases) {
    for (const x of p.resources)
      out.push(row([p.name, x.name, fmt(x.peakRssMb, 0), x.avgCpuPct, x.peakCpuPct]));
  }
  out.push(
    '',
    '| phase | function | invocations | errors | cold starts | init p50 / max ms | invoke p50 / p99 / max ms |',
    '|---|---|---|---|---|---|---|',
  );
  for (const p of r.phases) {
    for (const [n, f] of Object.entries(p.functions ?? {})) {
      if (f.invocations === 0 && f.coldStarts === 0) continue;
      out.push(
        row([
          p.name,
          n,
          f.invocations,
          f.errors,
          f.coldStarts,
          `${fmt(f.init.p50, 0)} / ${fmt(f.init.max, 0)}`,
          `${fmt(f.duration.p50, 1)} / ${fmt(f.duration.p99, 1)} / ${fmt(f.duration.max, 0)}`,
        ]),
      );
    }
  }
  const cold = r.phases.flatMap((p) =>
    Object.entries(p.warmupFunctions ?? {})
      .filter(([, f]) => f.coldStarts > 0)
      .map(([n, f]) => row([p.name, n, f.coldStarts, fmt(f.init.p50, 0), fmt(f.init.max, 0)])),
  );
  if (cold.length) {
    out.push(
      '',
      '| phase (warm-up) | function | cold starts | init p50 ms | init max ms |',
      '|---|---|---|---|---|',
      ...cold,
    );
  }
  if (r.targets.length) {
    out.push('', '| target | wanted | measured | met |', '|---|---|---|---|');
    for (const t of r.targets)
      out.push(row([t.name, t.target, t.actual, t.met === null ? '?' : t.met ? 'yes' : '**no**']));
  }
  return out.join('\n');
}

function chaos(r: ChaosReport): string {
  const out: string[] = [];
  out.push(
    `**chaos ${r.variant}** (${r.options.steps.join(', ')}), ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC, commit ${r.commit}, ${r.options.connections} connections at ${r.options.rate} msg/s.`,
    '',
  );
  if (r.scenarios.length) {
    out.push(
      '| fault | what happened | sent | acked | refused (codes) | LOST | DUP history | DUP deliveries | unread exact | delivery resumed after | ok |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const s of r.scenarios) {
      out.push(
        row([
          s.fault,
          s.actions.join('; '),
          s.load.sent,
          s.load.acked,
          `${s.refusedDuringFault} ${JSON.stringify(s.load.errorsByCode)}`,
          s.load.lost,
          s.load.duplicatedInHistory,
          s.load.duplicatedDeliveries,
          s.unreadExact ? `yes (${s.load.history?.unreadChecked ?? 0} observers)` : '**no**',
          s.deliveryResumedAfterSec === null ? 'never' : `${s.deliveryResumedAfterSec} s`,
          s.ok ? 'yes' : '**no**',
        ]),
      );
    }
  }
  if (r.poison) {
    const p = r.poison;
    out.push(
      '',
      `Poison records: ${p.deadLettered}/${p.produced} on the dead-letter topic with a reason after ${p.deadLetterWaitSec} s (${p.reasons.map((x) => `\`${x}\``).join(', ')}); live load next to them: LOST ${p.load.lost}, DUPLICATED ${p.load.duplicated}, worst live latency ${p.worstLiveLatencyMs} ms.`,
    );
  }
  if (r.fuzz) {
    const f = r.fuzz;
    out.push(
      '',
      `Fuzz: ${f.framesSent} frames in ${f.durationSec} s (seed ${f.seed}); ${f.answers.errorFrames} error frames ${JSON.stringify(f.answers.errorCodes)}; closes ${JSON.stringify(f.answers.closes)}; contract violations ${f.violations}, unanswered ${f.unanswered}; runtime crashes ${f.crashes.length}${f.excludedCategories.length ? ` (category left out afterwards: ${f.excludedCategories.join(', ')})` : ''}; pong after: ${f.pingAfter}.`,
    );
  }
  return out.join('\n');
}

const fail: UsageFailure = usageFailure(
  'results-md',
  'usage: npx tsx bench/src/tools/results-md.ts <result.json>… (bench or chaos results, e.g. bench/results/bench-full-latest.json)',
);
const { positionals: files } = parseCommandLine(
  { args: process.argv.slice(2), allowPositionals: true, options: {} },
  fail,
);
if (files.length === 0) fail('no result file given');
for (const file of files) {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { kind: string };
  process.stdout.write(`${doc.kind === 'bench' ? bench(doc as BenchReport) : chaos(doc as ChaosReport)}\n\n`);
}
