/** The targets of the full profile (docs/benchmarks.md "Targets"), checked against a run's phases. */
import type { BaselineResult } from './baselines/raw.ts';
import type { PhaseReport } from './phases.ts';
import { fmt, type TargetCheck } from './report.ts';

export function evaluateTargets(baselines: BaselineResult[], phases: PhaseReport[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const kafka = baselines.find((b) => b.name === 'kafka');
  const byName = (n: string) => phases.find((p) => p.name === n);
  const lat = byName('latency-1000')?.load;
  if (lat) {
    const p50 = lat.deliveryLatencyMs.p50;
    const p99 = lat.deliveryLatencyMs.p99;
    out.push({
      name: 'delivery latency at 1,000 msg/s over 2,000 connections',
      target: 'p50 ≤ 10 ms, p99 ≤ 40 ms',
      actual: `p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms (achieved ${lat.achievedSendRate} msg/s)`,
      met: p50 !== null && p99 !== null ? p50 <= 10 && p99 <= 40 : null,
    });
    const kp50 = kafka?.latencyMs?.p50 ?? null;
    out.push({
      name: 'e2e p50 within 3× raw Kafka produce→consume',
      target: '≤ 3.0×',
      actual:
        p50 !== null && kp50
          ? `${fmt(p50 / kp50, 2)}× (${fmt(p50)} ms vs ${fmt(kp50, 2)} ms)`
          : 'no Kafka baseline',
      met: p50 !== null && kp50 ? p50 / kp50 <= 3 : null,
    });
  }
  const thr = byName('throughput-5000')?.load;
  if (thr) {
    const persisted = thr.persistedMsgPerSec ?? 0;
    out.push({
      name: 'sustained throughput with zero loss',
      target: '≥ 5,000 msg/s persisted and delivered, LOST = 0',
      actual: `sent ${thr.achievedSendRate}/s, persisted ${persisted}/s, delivered ${thr.deliveredMsgPerSec}/s, LOST ${thr.lost}`,
      met: persisted >= 5000 && thr.deliveredMsgPerSec >= 5000 && thr.lost === 0,
    });
  }
  const idle = byName('idle-10000')?.idle;
  if (idle) {
    out.push({
      name: '10,000 idle connections: runtime RSS',
      target: '< 500 MB',
      actual: `${fmt(idle.runtimeRssAfterMb)} MB (${idle.runtimeRssPerConnectionKb ?? '—'} KB per connection)`,
      met: idle.runtimeRssAfterMb !== null ? idle.runtimeRssAfterMb < 500 : null,
    });
  }
  const soak = phases.find((p) => p.name.startsWith('soak'));
  if (soak?.load) {
    const series = soak.resources.find((r) => r.name === 'runtime')?.rssSeriesMb ?? [];
    const minute = 60;
    const early = series.slice(minute, 2 * minute);
    const late = series.slice(-minute);
    const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
    const growth = (avg(late) - avg(early)) / avg(early);
    out.push({
      name: 'soak: RSS flat and zero loss',
      target: 'runtime RSS growth minute 2 → last minute < 10 %, LOST = 0, DUPLICATED = 0',
      actual: `RSS ${fmt(avg(early), 0)} → ${fmt(avg(late), 0)} MB (${fmt(growth * 100)} %), LOST ${soak.load.lost}, DUPLICATED ${soak.load.duplicated}`,
      met: Number.isFinite(growth)
        ? growth < 0.1 && soak.load.lost === 0 && soak.load.duplicated === 0
        : null,
    });
  }
  return out;
}
