/** Accounting of one load window: LOST, DUPLICATED, latencies and rates, the `load` object of the JSON report. */
import type { Connections } from './connections.ts';
import type { HistoryCheck } from './history-check.ts';
import type { HopsSummary } from './hops.ts';
import { jsonSummary } from './stats.ts';

export interface LoadResult {
  connections: number;
  users: number;
  conversations: number;
  targetRate: number;
  durationSec: number;
  sent: number;
  acked: number;
  refused: number;
  unanswered: number;
  skippedSends: number;
  /** Sends not made because too many were unanswered (the runtime could not keep up with the rate). */
  backpressuredSends: number;
  errorsByCode: Record<string, number>;
  unexpectedCloses: number;
  /** Connections reopened after a server close, and messages they recovered from history (chaos only). */
  reconnects: number;
  filledFromHistory: number;
  closeCodes: Record<string, number>;
  nonContractFrames: number;
  nonContractSamples: string[];
  achievedSendRate: number;
  ackLatencyMs: ReturnType<typeof jsonSummary>;
  deliveryLatencyMs: ReturnType<typeof jsonSummary>;
  /** Per-hop latency of live deliveries (from the platform's MessageTrace; hops with no sample left out). */
  hopsMs: HopsSummary;
  /** Distinct messages whose first delivery happened, per second of the window first send → last first delivery. */
  deliveredMsgPerSec: number;
  /** Delivery events (one per recipient connection) per second. */
  deliveriesPerSec: number;
  /** Acked messages verified in history, per second of the same window. */
  persistedMsgPerSec: number | null;
  deliveries: number;
  /**
   * Sends not delivered to every member connection within 15 s of the send (never acked, refused, late or
   * never delivered), and their share of all sends: the last column of issue 13's table.
   */
  notDeliveredWithin15s: number;
  notDeliveredWithin15sShare: number | null;
  drainMs: number;
  drainComplete: boolean;
  lost: number;
  lostDeliveries: number;
  lostFromHistory: number;
  /** Duplicate deliveries (same id twice to one connection) + duplicates in history. */
  duplicated: number;
  duplicatedDeliveries: number;
  duplicatedInHistory: number;
  history: HistoryCheck | null;
}

/** A send counts as delivered in time when every member connection got it within this long. */
export const DELIVERED_WITHIN_MS = 15_000;

/** Account for every message of a run: LOST, DUPLICATED and rates. */
export function summarizeLoad(
  conns: Connections,
  plan: { rate: number; durationSec: number; sendWindowMs: number; skipped: number; backpressured?: number },
  drain: { drainedMs: number; complete: boolean },
  history: HistoryCheck | null,
): LoadResult {
  let lostDeliveries = 0;
  const lostSeqs = new Set<number>();
  let firstSent = Number.POSITIVE_INFINITY;
  let lastFirstDelivery = 0;
  let lastDelivery = 0;
  let delivered = 0;
  let unanswered = 0;
  let late = 0;
  for (const m of conns.sent) {
    firstSent = Math.min(firstSent, m.sentAt);
    if (m.ackAt === 0 && m.errorCode === null) unanswered++;
    if (m.firstDeliveryAt) {
      delivered++;
      lastFirstDelivery = Math.max(lastFirstDelivery, m.firstDeliveryAt);
      lastDelivery = Math.max(lastDelivery, m.lastDeliveryAt);
    }
    if (m.ackAt === 0) {
      late++;
      continue;
    }
    let complete = true;
    for (const c of conns.expectedRecipients(m)) {
      if (!c.received.has(m.seq)) {
        complete = false;
        lostDeliveries++;
        lostSeqs.add(m.seq);
      }
    }
    if (!complete || m.firstDeliveryAt === 0 || m.lastDeliveryAt - m.sentAt > DELIVERED_WITHIN_MS) late++;
  }
  const lostFromHistory = history?.missingFromHistory ?? 0;
  // A message missing from history but delivered counts once in LOST via the history count.
  const lost = lostSeqs.size + lostFromHistory;
  const window = (lastFirstDelivery - firstSent) / 1000;
  const deliveryWindow = (lastDelivery - firstSent) / 1000;
  const c = conns.counters;
  const persisted = history ? c.acked - history.missingFromHistory : null;
  return {
    connections: conns.conns.length,
    users: conns.world.users.length,
    conversations: conns.world.conversations.length,
    targetRate: plan.rate,
    durationSec: plan.durationSec,
    sent: c.sent,
    acked: c.acked,
    refused: c.refused,
    unanswered,
    skippedSends: plan.skipped,
    backpressuredSends: plan.backpressured ?? 0,
    errorsByCode: c.errorsByCode,
    unexpectedCloses: c.unexpectedCloses,
    reconnects: c.reconnects,
    filledFromHistory: c.filledFromHistory,
    closeCodes: c.closeCodes,
    nonContractFrames: c.nonContractFrames,
    nonContractSamples: c.nonContractSamples,
    achievedSendRate: Math.round(c.sent / (plan.sendWindowMs / 1000)),
    ackLatencyMs: jsonSummary(conns.ackLatency.summary()),
    deliveryLatencyMs: jsonSummary(conns.deliveryLatency.summary()),
    hopsMs: conns.hops.summary(),
    deliveredMsgPerSec: window > 0 ? Math.round(delivered / window) : 0,
    deliveriesPerSec: deliveryWindow > 0 ? Math.round(c.deliveries / deliveryWindow) : 0,
    persistedMsgPerSec: persisted !== null && window > 0 ? Math.round(persisted / window) : null,
    deliveries: c.deliveries,
    notDeliveredWithin15s: late,
    notDeliveredWithin15sShare: conns.sent.length
      ? Math.round((late / conns.sent.length) * 10_000) / 10_000
      : null,
    drainMs: Math.round(drain.drainedMs),
    drainComplete: drain.complete,
    lost,
    lostDeliveries,
    lostFromHistory,
    duplicated: c.duplicates + (history?.duplicatedInHistory ?? 0),
    duplicatedDeliveries: c.duplicates,
    duplicatedInHistory: history?.duplicatedInHistory ?? 0,
    history,
  };
}
