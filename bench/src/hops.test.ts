import { expect, it } from 'vitest';
import { HopRecorder } from './hops.ts';

it('splits send→delivery into the hops the trace stamps, and leaves out hops with no sample', () => {
  const r = new HopRecorder();
  const trace = { received: 1_002, produced: 1_005, fetched: 1_006, persisted: 1_010, pushed: 1_011 };
  r.add(trace, 1_000, 1_013);
  r.add(undefined, 1_000, 1_020);
  r.add({ received: 2_001 }, 2_000, 2_050);
  const s = r.summary();
  expect(r.traced).toBe(2);
  expect(s['client→handler']?.count).toBe(2);
  expect(s['client→handler']?.max).toBe(2);
  expect(s['handler→produced']?.p50).toBe(3);
  expect(s['fetched→persisted']?.p50).toBe(4);
  expect(s['pushed→client']?.p50).toBe(2);
  expect(s['pushed→client']?.count).toBe(1);
  r.reset();
  expect(r.summary()).toEqual({});
});
