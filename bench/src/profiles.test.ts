import { expect, it } from 'vitest';
import { type LoadPhase, parseCli, parseTarget, profiles } from './profiles.ts';

it('the full profile holds issue 13’s phases', () => {
  expect(profiles.full.phases.map((p) => p.name)).toEqual([
    'latency-200',
    'throughput-800',
    'idle-10000',
    'soak-300x600',
  ]);
  const lat = profiles.full.phases[0] as LoadPhase;
  expect(lat).toMatchObject({ connections: 2000, rate: 200 });
});

it('the rates profile: pairs of users in DMs, one 20 s run per rate, the whole rate offered', () => {
  const r = profiles.rates;
  expect(r).toMatchObject({ dms: 'pairs', groupSize: 0, groupShare: 0 });
  expect(r.phases.map((p) => [p.name, (p as LoadPhase).rate, (p as LoadPhase).durationSec])).toEqual([
    ['rate-10', 10, 20],
    ['rate-50', 50, 20],
    ['rate-100', 100, 20],
    ['rate-200', 200, 20],
  ]);
  expect(r.phases.every((p) => (p as LoadPhase).backpressure === false)).toBe(true);
});

it('--target names a running runtime (either order), like --ws and --http', () => {
  const o = parseCli(['--target', 'ws://localhost:8080/,http://localhost:8081']);
  expect(o).toMatchObject({ wsUrl: 'ws://localhost:8080', httpUrl: 'http://localhost:8081' });
  expect(parseTarget('http://h:2,ws://h:1')).toEqual(['ws://h:1', 'http://h:2']);
  expect(() => parseTarget('ws://h:1')).toThrow(/--target/);
  expect(() => parseCli(['--target', 'ws://h:1,http://h:2', '--ws', 'ws://h:1'])).toThrow();
  expect(parseCli(['--ws', 'ws://h:1', '--http', 'http://h:2'])).toMatchObject({ wsUrl: 'ws://h:1' });
});

it('--phases keeps the named phases and names the run after them', () => {
  const o = parseCli(['--profile', 'full', '--phases', 'latency-200,idle-10000']);
  expect(o.profile.name).toBe('full-latency-200+idle-10000');
  expect(o.profile.phases.map((p) => p.name)).toEqual(['latency-200', 'idle-10000']);
});

it('--soak-sec shortens the soak and names it after its length', () => {
  const o = parseCli(['--profile', 'full', '--soak-sec', '180']);
  expect(o.profile.phases.at(-1)).toMatchObject({ name: 'soak-300x180', durationSec: 180, rate: 300 });
});
