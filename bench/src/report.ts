/**
 * Result files: one JSON document per run in bench/results/ (`<kind>-<profile>-<stamp>.json`, plus
 * `<kind>-<profile>-latest.json`), and a human summary printed to stdout.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '@chat/kit/paths';

export const resultsDir = path.join(repoRoot, 'bench', 'results');

export interface MachineInfo {
  /** 1-minute load average when the report was written (other work on the machine skews every figure). */
  loadAvg1m: number;
  cpus: number;
  cpuModel: string;
  memGiB: number;
  node: string;
  kernel: string;
  hostname: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    loadAvg1m: Math.round((os.loadavg()[0] ?? 0) * 10) / 10,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    kernel: os.release(),
    hostname: os.hostname(),
  };
}

export function gitCommit(): string | null {
  try {
    return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

export interface TargetCheck {
  name: string;
  target: string;
  actual: string;
  met: boolean | null;
  note?: string;
}

/** Writes the JSON report; returns the path of the stamped file. */
export function writeResult(kind: string, profile: string, doc: unknown, dir = resultsDir): string {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date()
    .toISOString()
    .replace(/[:.]/g, '-')
    .replace(/-\d{3}Z$/, 'Z');
  const file = path.join(dir, `${kind}-${profile}-${stamp}.json`);
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  writeFileSync(file, text);
  writeFileSync(path.join(dir, `${kind}-${profile}-latest.json`), text);
  return file;
}

/** A fixed-width text table. */
export function table(header: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '—' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  return [
    line(cells[0] as string[]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
  ].join('\n');
}

export const fmt = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);
