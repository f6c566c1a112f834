/**
 * The short chaos variant inside `npm test`: only the faults that stay inside the bench's own runtime (kill the
 * persist function's environment mid-batch, poison records on the bench's own topic) and a small fuzz. The
 * shared services are never touched here: killing them belongs to `npm run chaos`.
 */
import { describe, expect, it } from 'vitest';
import { chaosVariants, runChaos } from './chaos-run.ts';

describe('When faults hit the runtime under steady load (short chaos)', () => {
  it('keeps every acked message exactly once, dead-letters poison, and survives hostile frames', {
    timeout: 600_000,
  }, async () => {
    const { report } = await runChaos({ ...structuredClone(chaosVariants.short), write: false });
    expect(report.errors).toEqual([]);

    const kill = report.scenarios.find((s) => s.fault === 'persist-env-kill');
    expect(kill?.load.acked).toBeGreaterThan(0);
    expect(kill?.load.lost).toBe(0);
    // Durable exactly-once: no message twice in history, unread counts exact. (A batch retried after the crash
    // pushes its messages again: the protocol's delivery is at least once; duplicate deliveries are reported.)
    expect(kill?.load.duplicatedInHistory).toBe(0);
    expect(kill?.unreadExact).toBe(true);
    expect(kill?.load.history?.unreadChecked).toBeGreaterThan(0);
    expect(kill?.deliveryResumedAfterSec).not.toBeNull();

    expect(report.poison?.deadLettered).toBe(report.poison?.produced);
    expect(report.poison?.allWithReason).toBe(true);
    expect(report.poison?.load.acked).toBeGreaterThan(0);
    expect(report.poison?.load.lost).toBe(0);
    // No crash here: the live load next to the poison records is delivered exactly once.
    expect(report.poison?.load.duplicated).toBe(0);

    expect(report.fuzz?.framesSent).toBe(chaosVariants.short.fuzzFrames);
    expect(report.fuzz?.failures).toEqual([]);
    expect(report.fuzz?.unanswered).toBe(0);
    expect(report.fuzz?.runtimeAlive).toBe(true);
    expect(report.fuzz?.pingAfter).toBe(true);
  });
});
