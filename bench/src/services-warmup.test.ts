import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { parseStat } from './procs.ts';
import { parseCli } from './profiles.ts';
import {
  DEFAULT_WARMUP_SEC,
  listenerAgeSeconds,
  warmupSeconds,
  YOUNG_SERVICE_SEC,
} from './services-warmup.ts';

it('reads a process start time from /proc/<pid>/stat (a comm with spaces and parentheses too)', () => {
  const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
  fields[19] = '123456'; // field 22, starttime, in clock ticks
  expect(parseStat(`4242 (java (x) y) ${fields.join(' ')}`).startSeconds).toBe(1234.56);
  // This very process started after boot and before now.
  const own = parseStat(readFileSync('/proc/self/stat', 'utf8')).startSeconds;
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  expect(own).toBeGreaterThan(0);
  expect(own).toBeLessThanOrEqual(uptime);
});

it('finds no age for a port nobody listens on', () => {
  expect(listenerAgeSeconds(1)).toBeNull();
});

it('warms by default only when a JVM service is young; --services-warmup wins either way', () => {
  const old = YOUNG_SERVICE_SEC + 1;
  expect(warmupSeconds({ kafka: old, cassandra: old }, undefined).seconds).toBe(0);
  expect(warmupSeconds({ kafka: null, cassandra: null }, undefined).seconds).toBe(0);
  const young = warmupSeconds({ kafka: old, cassandra: 120 }, undefined);
  expect(young.seconds).toBe(DEFAULT_WARMUP_SEC);
  expect(young.reason).toContain('cassandra up 2 min');
  expect(warmupSeconds({ kafka: 10, cassandra: 10 }, 0).seconds).toBe(0);
  expect(warmupSeconds({ kafka: old, cassandra: old }, 30).seconds).toBe(30);
});

it('parses --services-warmup', () => {
  expect(parseCli(['--services-warmup', '0']).servicesWarmupSec).toBe(0);
  expect(parseCli(['--services-warmup', '90']).servicesWarmupSec).toBe(90);
  expect(parseCli([]).servicesWarmupSec).toBeUndefined();
  expect(() => parseCli(['--services-warmup', '-1'])).toThrow();
});
