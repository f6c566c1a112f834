/**
 * The send loop: a clock-driven scheduler at R messages per second (timer lag becomes a small burst, never a
 * lower rate), rotating over connections under the per-connection frame budget, with backpressure: while too
 * many sends are unanswered, or an acked message waits too long for its first delivery, sends are skipped and
 * counted, never queued.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Connections } from './connections.ts';
import type { Conn } from './tally.ts';
import type { BenchConversation, BenchUser, World } from './world.ts';

export interface SendPlanOptions {
  rate: number;
  durationSec: number;
  /** Called every second with counters, for the progress display. */
  onTick?: () => void;
  /** Per-connection frame budget per second (the runtime answers `rate_limited` above 20). */
  perConnectionPerSecond?: number;
  /** Stop early when this returns true (chaos phases). */
  stop?: () => boolean;
  /** Probability that a send goes to one of the sender's groups rather than a DM (default: uniform). */
  groupShare?: number;
  /**
   * Backpressure: while more sends than this are unanswered, no new send starts (counted as skipped), so an
   * overloaded runtime is never handed an unbounded queue. Default: 5 seconds' worth at the target rate (500 to
   * 2,000), and never while the oldest unanswered send is over 5 s old: a queue deeper than API Gateway's 29 s integration timeout would lose the acks (the function still
   * runs, but its route response is dropped), and the run would measure timeouts instead of the system.
   */
  maxUnanswered?: number;
  /** Backpressure on the persist-and-push stage: the oldest acked, undelivered message's age (ms). */
  maxUndeliveredAgeMs?: number;
  /** `false`: no backpressure at all, the whole rate is offered (bounded runs only, e.g. `rates`). */
  backpressure?: boolean;
}

function pickConversation(world: World, user: BenchUser, groupShare: number | undefined): number {
  const list = user.conversations;
  if (groupShare !== undefined) {
    const wantGroup = Math.random() < groupShare;
    const candidates = list.filter(
      (c) => (world.conversations[c] as BenchConversation).type === (wantGroup ? 'group' : 'dm'),
    );
    if (candidates.length) return candidates[Math.floor(Math.random() * candidates.length)] as number;
  }
  return list[Math.floor(Math.random() * list.length)] as number;
}

/**
 * Send at a steady rate: every tick, send as many messages as are due by the clock (so timer lag turns into a
 * small burst, never into a lower rate). Senders rotate over open connections; each picks one of its user's
 * conversations at random.
 */
export async function sendAtRate(
  conns: Connections,
  opts: SendPlanOptions,
): Promise<{ sendWindowMs: number; skipped: number; backpressured: number }> {
  const perConnLimit = opts.perConnectionPerSecond ?? 10;
  const off = opts.backpressure === false;
  const maxUnanswered = off
    ? Number.POSITIVE_INFINITY
    : (opts.maxUnanswered ?? Math.min(2_000, Math.max(500, opts.rate * 5)));
  const maxUnansweredAgeMs = off ? Number.POSITIVE_INFINITY : 5_000;
  /** Also hold back while an acked message has waited this long for its first delivery (persist is behind). */
  const maxUndeliveredAgeMs = off ? Number.POSITIVE_INFINITY : (opts.maxUndeliveredAgeMs ?? 10_000);
  let backpressured = 0;
  const t0 = performance.now();
  const end = t0 + opts.durationSec * 1000;
  let sentHere = 0;
  let skipped = 0;
  let cursor = 0;
  let lastSecond = t0;
  const n = conns.conns.length;
  while (performance.now() < end && !opts.stop?.()) {
    const now = performance.now();
    if (now - lastSecond >= 1000) {
      lastSecond = now;
      for (const c of conns.conns) if (c) c.sends = 0;
      opts.onTick?.();
    }
    const due = Math.floor(((now - t0) / 1000) * opts.rate) - sentHere;
    const c = conns.counters;
    const oldest = conns.oldestUnansweredAt(now);
    const unanswered = c.sent - c.acked - c.refused - c.givenUp;
    const oldestUndelivered = conns.oldestUndeliveredAt(now);
    if (
      unanswered > maxUnanswered ||
      (oldest !== null && now - oldest > maxUnansweredAgeMs) ||
      (oldestUndelivered !== null && now - oldestUndelivered > maxUndeliveredAgeMs)
    ) {
      // Over the backpressure limit: these sends are skipped, not queued.
      skipped += due;
      backpressured += due;
      sentHere += due;
      await delay(5);
      continue;
    }
    for (let k = 0; k < due; k++) {
      let sentOne = false;
      for (let tries = 0; tries < n && !sentOne; tries++) {
        const c = conns.conns[cursor] as Conn;
        cursor = (cursor + 1) % n;
        if (!c || c.sends >= perConnLimit || c.closedAt !== null) continue;
        const user = conns.world.users[c.user] as BenchUser;
        if (user.observer || user.conversations.length === 0) continue;
        const conv = pickConversation(conns.world, user, opts.groupShare);
        if (conns.send(c.idx, conv) >= 0) sentOne = true;
      }
      if (!sentOne) skipped++;
      sentHere++;
    }
    await delay(2);
  }
  return { sendWindowMs: performance.now() - t0, skipped, backpressured };
}
