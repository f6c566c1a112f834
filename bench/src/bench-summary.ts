/** The human summary of a bench report, printed after a run (the JSON document holds the same figures). */
import type { BenchReport } from './bench.ts';
import { formatStoreWork } from './census.ts';
import { fmt, table } from './report.ts';

export function humanSummary(r: BenchReport): string {
  const lines: string[] = [];
  lines.push(`bench ${r.profile} · ${r.startedAt} · commit ${r.commit ?? '?'}`);
  lines.push(
    `machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memGiB} GiB, Node ${r.machine.node}`,
  );
  lines.push(
    `runtime: ${r.runtime === 'external' ? 'external (--target)' : 'started by the bench'}${r.endpoints ? ` ${r.endpoints.wsUrl} ${r.endpoints.httpUrl}` : ''}`,
  );
  lines.push(
    `setup: ${r.setup.users} users, ${r.setup.conversations} conversations in ${fmt(r.setup.seconds)} s`,
  );
  if (r.baselines.length) {
    lines.push('', 'raw baselines (ms)');
    lines.push(
      table(
        ['component', 'p50', 'p90', 'p99', 'max', 'n'],
        r.baselines.map((b) =>
          b.ok
            ? [
                b.name,
                fmt(b.latencyMs?.p50, 3),
                fmt(b.latencyMs?.p90, 3),
                fmt(b.latencyMs?.p99, 3),
                fmt(b.latencyMs?.max, 3),
                b.latencyMs?.count,
              ]
            : [b.name, `failed: ${b.error?.slice(0, 60)}`, '', '', '', ''],
        ),
      ),
    );
  }
  for (const p of r.phases) {
    lines.push('', `phase ${p.name}`);
    if (p.load) {
      const l = p.load;
      lines.push(
        table(
          ['metric', 'value'],
          [
            ['connections / users / conversations', `${l.connections} / ${l.users} / ${l.conversations}`],
            ['target rate → achieved send rate', `${l.targetRate} → ${l.achievedSendRate} msg/s`],
            [
              'sent / acked / refused / unanswered',
              `${l.sent} / ${l.acked} / ${l.refused} / ${l.unanswered}`,
            ],
            ['sends held back (backpressure: runtime behind)', String(l.backpressuredSends)],
            [
              'send→ack p50 / p90 / p99 / max (ms)',
              `${fmt(l.ackLatencyMs.p50)} / ${fmt(l.ackLatencyMs.p90)} / ${fmt(l.ackLatencyMs.p99)} / ${fmt(l.ackLatencyMs.max)}`,
            ],
            [
              'send→delivery p50 / p90 / p99 / max (ms)',
              `${fmt(l.deliveryLatencyMs.p50)} / ${fmt(l.deliveryLatencyMs.p90)} / ${fmt(l.deliveryLatencyMs.p99)} / ${fmt(l.deliveryLatencyMs.max)}`,
            ],
            ...Object.entries(l.hopsMs ?? {}).map(([hop, s]) => [
              `  hop ${hop} p50 / p99 (ms)`,
              `${fmt(s?.p50 ?? null)} / ${fmt(s?.p99 ?? null)}`,
            ]),
            [
              'not delivered to every member within 15 s',
              l.notDeliveredWithin15sShare === null
                ? '—'
                : `${l.notDeliveredWithin15s} (${fmt(l.notDeliveredWithin15sShare * 100)} %)`,
            ],
            [
              'delivered msg/s · deliveries/s · persisted msg/s',
              `${l.deliveredMsgPerSec} · ${l.deliveriesPerSec} · ${l.persistedMsgPerSec ?? '—'}`,
            ],
            [
              'LOST (deliveries missing · missing from history)',
              `${l.lost} (${l.lostDeliveries} · ${l.lostFromHistory})`,
            ],
            ['DUPLICATED (in history)', `${l.duplicated} (${l.duplicatedInHistory})`],
            [
              'unread exact (observers checked · mismatches) · id/seq order diffs',
              l.history
                ? `${l.history.unreadChecked} · ${l.history.unreadMismatches.length} · ${l.history.unreadOrderDiffs.length}`
                : '—',
            ],
            ['errors by code', JSON.stringify(l.errorsByCode)],
            [
              'non-contract frames (samples)',
              `${l.nonContractFrames} ${l.nonContractSamples.slice(0, 2).join(' | ')}`,
            ],
            ['unexpected closes (codes)', `${l.unexpectedCloses} ${JSON.stringify(l.closeCodes)}`],
            ...(p.warmup
              ? [
                  [
                    'warm-up sent / acked / LOST / DUPLICATED',
                    `${p.warmup.sent} / ${p.warmup.acked} / ${p.warmup.lost} / ${p.warmup.duplicated}`,
                  ],
                ]
              : []),
            ['drain', `${l.drainMs} ms${l.drainComplete ? '' : ' (incomplete)'}`],
          ],
        ),
      );
    }
    if (p.idle) {
      const i = p.idle;
      lines.push(
        `${i.connections} idle connections opened in ${i.openSeconds} s; runtime RSS ${fmt(i.runtimeRssBeforeMb)} → ${fmt(i.runtimeRssAfterMb)} MB at the end of the ${i.holdSec ?? '?'} s hold (peak ${fmt(i.runtimeRssPeakMb ?? null)} MB while opening; ${i.runtimeRssPerConnectionKb ?? '—'} KB/connection); unexpected closes ${i.unexpectedCloses}`,
      );
    }
    if (p.cpuPerMessage) {
      const c = p.cpuPerMessage;
      lines.push(
        `CPU per message (ms, ${c.messages} acked): all in ${fmt(c.allInMs, 2)} = ` +
          c.ranking.map((x) => `${x.part} ${fmt(x.ms, 2)}`).join(' + '),
      );
    }
    if (p.storeWork) lines.push(`store work per message: ${formatStoreWork(p.storeWork)}`);
    if (p.loadAvg)
      lines.push(
        `machine load average during the phase: mean ${p.loadAvg.mean}, max ${p.loadAvg.max} (2 cores)`,
      );
    lines.push(
      table(
        ['process', 'peak RSS MB', 'avg CPU %', 'peak CPU %'],
        p.resources.map((x) => [x.name, fmt(x.peakRssMb), x.avgCpuPct, x.peakCpuPct]),
      ),
    );
    if (p.functions) {
      lines.push(
        table(
          [
            'function',
            'invocations',
            'errors',
            'cold',
            'init p50',
            'init max',
            'invoke p50',
            'invoke p99',
            'invoke max',
            'CPU ms/invoke',
          ],
          Object.entries(p.functions)
            .filter(([, f]) => f.invocations > 0 || f.coldStarts > 0)
            .map(([n, f]) => [
              n,
              f.invocations,
              f.errors,
              f.coldStarts,
              fmt(f.init.p50),
              fmt(f.init.max),
              fmt(f.duration.p50, 2),
              fmt(f.duration.p99, 2),
              fmt(f.duration.max),
              f.cpuMs === undefined || f.invocations === 0 ? '-' : fmt(f.cpuMs / f.invocations, 2),
            ]),
        ),
      );
    }
  }
  const loads = r.phases.filter((p) => p.load);
  if (loads.length > 1 || r.profile.startsWith('rates')) {
    lines.push('', 'load phases');
    lines.push(
      table(
        [
          'phase',
          'conns',
          'offered → achieved msg/s',
          'delivery p50 / p99 ms',
          'not delivered in 15 s',
          'persisted msg/s',
          'CPU ms/msg',
          'load avg',
          'LOST',
          'DUP',
        ],
        loads.map((p) => {
          const l = p.load as NonNullable<typeof p.load>;
          return [
            p.name,
            l.connections,
            `${l.targetRate} → ${l.achievedSendRate}`,
            `${fmt(l.deliveryLatencyMs.p50)} / ${fmt(l.deliveryLatencyMs.p99)}`,
            l.notDeliveredWithin15sShare === null
              ? '—'
              : `${fmt(l.notDeliveredWithin15sShare * 100)} % (${l.notDeliveredWithin15s})`,
            l.persistedMsgPerSec ?? '—',
            fmt(p.cpuPerMessage?.allInMs ?? null, 2),
            p.loadAvg ? `${p.loadAvg.mean} (max ${p.loadAvg.max})` : '—',
            l.lost + (p.warmup?.lost ?? 0),
            l.duplicated + (p.warmup?.duplicated ?? 0),
          ];
        }),
      ),
    );
  }
  if (r.targets.length) {
    lines.push('', 'targets');
    lines.push(
      table(
        ['target', 'wanted', 'actual', 'met'],
        r.targets.map((t) => [t.name, t.target, t.actual, t.met === null ? '?' : t.met ? 'yes' : 'NO']),
      ),
    );
  }
  if (r.push) {
    const p = r.push;
    lines.push(
      '',
      `web push (away members): ${p.awayUsers} subscribed at a push service answering ${p.status}` +
        `${p.delayMs ? ` after ${p.delayMs} ms` : ''}; it received ${p.received} requests ` +
        `(${Object.entries(p.byStatus)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')})`,
    );
  }
  lines.push(
    '',
    `TOTAL: LOST ${r.totals.lost}, DUPLICATED ${r.totals.duplicated} → ${r.ok ? 'OK' : 'FAILED'}`,
  );
  return lines.join('\n');
}
