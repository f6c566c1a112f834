/**
 * Issue 13's targets (docs/benchmarks.md), checked against a run's phases: each check appears only when its
 * phase ran. Zero loss is checked in every phase (warm-ups included); `npm start` within 20 % of the bench is
 * a comparison of two runs (`--target`), not a check of one.
 */
import type { BaselineResult } from './baselines/raw.ts';
import type { PhaseReport } from './phases.ts';
import { fmt, type TargetCheck } from './report.ts';

export const TARGETS = {
  latency: { phase: 'latency-200', p50Ms: 15, p99Ms: 100 },
  sustainedMsgPerSec: 600,
  cpuPerMessageMs: 3,
  idleRssMb: 300,
} as const;

/** The two largest CPU consumers per message, e.g. "persistFanout 1.2 ms, cassandra 0.9 ms". */
export function limitsNext(p: PhaseReport, n = 3): string {
  const parts = p.cpuPerMessage?.ranking.slice(0, n) ?? [];
  return parts.length ? parts.map((x) => `${x.part} ${fmt(x.ms, 2)} ms`).join(', ') : 'no CPU profile';
}

export function evaluateTargets(_baselines: BaselineResult[], phases: PhaseReport[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const byName = (n: string) => phases.find((p) => p.name === n);
  const latPhase = byName(TARGETS.latency.phase);
  const lat = latPhase?.load;
  if (lat) {
    const p50 = lat.deliveryLatencyMs.p50;
    const p99 = lat.deliveryLatencyMs.p99;
    out.push({
      name: 'delivery latency at 200 msg/s over 2,000 connections',
      target: `p50 ≤ ${TARGETS.latency.p50Ms} ms, p99 ≤ ${TARGETS.latency.p99Ms} ms, LOST 0, DUPLICATED 0`,
      actual: `p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms (achieved ${lat.achievedSendRate} msg/s), LOST ${lat.lost}, DUPLICATED ${lat.duplicated}`,
      met:
        p50 !== null && p99 !== null
          ? p50 <= TARGETS.latency.p50Ms &&
            p99 <= TARGETS.latency.p99Ms &&
            lat.lost === 0 &&
            lat.duplicated === 0 &&
            lat.achievedSendRate >= 0.95 * lat.targetRate
          : null,
    });
  }
  for (const p of phases.filter((x) => x.name.startsWith('throughput-'))) {
    const thr = p.load;
    if (!thr) continue;
    const persisted = thr.persistedMsgPerSec ?? 0;
    const want = TARGETS.sustainedMsgPerSec;
    out.push({
      name: `sustained throughput (${p.name})`,
      target: `≥ ${want} msg/s persisted and delivered, LOST 0, DUPLICATED 0`,
      actual: `sent ${thr.achievedSendRate}/s, persisted ${persisted}/s, delivered ${thr.deliveredMsgPerSec}/s, LOST ${thr.lost}, DUPLICATED ${thr.duplicated}; limits next: ${limitsNext(p)}`,
      met: persisted >= want && thr.deliveredMsgPerSec >= want && thr.lost === 0 && thr.duplicated === 0,
    });
  }
  for (const p of phases.filter((x) => /^(latency|throughput|soak)-/.test(x.name))) {
    const c = p.cpuPerMessage;
    if (!p.load) continue;
    out.push({
      name: `CPU per message, all in (${p.name})`,
      target: `≤ ${TARGETS.cpuPerMessageMs} ms (runtime, Redis, Kafka, Cassandra)`,
      actual: c?.allInMs
        ? `${fmt(c.allInMs, 2)} ms at ${p.load.achievedSendRate} msg/s (${limitsNext(p)})`
        : 'not sampled',
      met: c?.allInMs ? c.allInMs <= TARGETS.cpuPerMessageMs : null,
    });
  }
  const idle = byName('idle-10000')?.idle;
  if (idle) {
    out.push({
      name: '10,000 idle connections: runtime RSS',
      target: `≤ ${TARGETS.idleRssMb} MB`,
      actual: `${fmt(idle.runtimeRssAfterMb)} MB (${idle.runtimeRssPerConnectionKb ?? '—'} KB per connection)`,
      met: idle.runtimeRssAfterMb !== null ? idle.runtimeRssAfterMb <= TARGETS.idleRssMb : null,
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
  const loads = phases.filter((p) => p.load);
  if (loads.length) {
    const bad = loads.filter(
      (p) =>
        (p.load?.lost ?? 0) +
          (p.load?.duplicated ?? 0) +
          (p.warmup?.lost ?? 0) +
          (p.warmup?.duplicated ?? 0) >
        0,
    );
    out.push({
      name: 'zero loss in every phase (warm-ups included)',
      target: 'LOST 0, DUPLICATED 0',
      actual: bad.length
        ? bad
            .map(
              (p) =>
                `${p.name}: LOST ${(p.load?.lost ?? 0) + (p.warmup?.lost ?? 0)}, DUPLICATED ${(p.load?.duplicated ?? 0) + (p.warmup?.duplicated ?? 0)}`,
            )
            .join('; ')
        : `${loads.length} load phase${loads.length > 1 ? 's' : ''}, all 0`,
      met: bad.length === 0,
    });
  }
  return out;
}
