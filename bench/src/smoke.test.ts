/**
 * The bench's smoke profile inside `npm test`: real runtime, real services, real sockets. Asserts the delivery
 * guarantees only (LOST = 0, DUPLICATED = 0), never timings: a loaded CI machine may be slow, not lossy.
 */
import { RUNTIME_MALLOC_ENV } from '@chat/local/runtime';
import { describe, expect, it } from 'vitest';
import { runBench } from './bench.ts';
import { profiles } from './profiles.ts';

describe('When the smoke profile runs against a fresh local runtime', () => {
  it('loses no acked message and duplicates none', { timeout: 300_000 }, async () => {
    const { report } = await runBench({ profile: structuredClone(profiles.smoke), seed: 1, write: false });
    const phase = report.phases[0]?.load;
    expect(phase).toBeDefined();
    // The run must really have carried traffic, or LOST = 0 would prove nothing.
    expect(phase?.acked).toBeGreaterThan(0);
    expect(phase?.deliveries).toBeGreaterThan(0);
    expect(phase?.history?.messagesInHistory).toBeGreaterThan(0);
    expect(report.totals.lost).toBe(0);
    expect(report.totals.duplicated).toBe(0);
    expect(phase?.history?.unreadMismatches).toEqual([]);
    // The runtime process started with npm start's malloc settings (freed memory goes back to the system).
    expect(report.runtimeMallocEnv).toMatchObject(RUNTIME_MALLOC_ENV);
  });
});
