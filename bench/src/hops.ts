/**
 * Per-hop latency of delivered messages, from the trace the platform stamps on each live `message` event
 * (`MessageTrace`: received by sendMessage, produced to Kafka, fetched by persistFanout, persisted, pushed)
 * plus the bench's own send and receive times. Wall-clock milliseconds: every hop here runs on this machine,
 * so one clock serves all (on AWS hops compare different hosts' clocks).
 */
import type { MessageTrace } from '@chat/functions/contracts';
import { jsonSummary, Recorder } from './stats.ts';

export const HOPS = [
  'client→handler',
  'handler→produced',
  'produced→fetched',
  'fetched→persisted',
  'persisted→pushed',
  'pushed→client',
] as const;
export type Hop = (typeof HOPS)[number];

/** p50/p90/p99/max per hop, the `hopsMs` object of the JSON report (only hops that were observed). */
export type HopsSummary = Partial<Record<Hop, ReturnType<typeof jsonSummary>>>;

export class HopRecorder {
  readonly #recorders = new Map<Hop, Recorder>(HOPS.map((h) => [h, new Recorder(1 << 16)]));
  /** Deliveries that carried a trace. */
  traced = 0;

  /** One delivery: the client sent at `sentWallMs` and received at `receivedWallMs` (epoch ms). */
  add(trace: MessageTrace | undefined, sentWallMs: number, receivedWallMs: number): void {
    if (!trace) return;
    this.traced++;
    const points: (number | undefined)[] = [
      sentWallMs,
      trace.received,
      trace.produced,
      trace.fetched,
      trace.persisted,
      trace.pushed,
      receivedWallMs,
    ];
    HOPS.forEach((hop, i) => {
      const from = points[i];
      const to = points[i + 1];
      if (from !== undefined && to !== undefined) this.#recorders.get(hop)?.add(Math.max(0, to - from));
    });
  }

  reset(): void {
    for (const r of this.#recorders.values()) r.reset();
    this.traced = 0;
  }

  summary(): HopsSummary {
    const out: HopsSummary = {};
    for (const [hop, r] of this.#recorders) {
      const s = r.summary();
      if (s.count > 0) out[hop] = jsonSummary(s);
    }
    return out;
  }
}
