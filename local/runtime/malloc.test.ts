/**
 * The runtime process's malloc settings (malloc.ts). glibc's dynamic thresholds kept up to 64 MiB of freed memory
 * resident in every arena once a large block had been freed: 82 MB of malloc's heap in the bench's idle phase.
 * These tests run a real child Node process with and without the settings `npm start` gives the runtime.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@chat/kit/paths';
import { describe, expect, it } from 'vitest';
import { RUNTIME_MALLOC_ENV } from './malloc.ts';

/** The `NAME=value` assignments that lead the root package.json's `start` script. */
const startScriptEnv = (): Record<string, string> => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const env: Record<string, string> = {};
  for (const word of (pkg.scripts.start ?? '').split(/\s+/)) {
    const m = /^([A-Z_]+)=(\S*)$/.exec(word);
    if (!m) break;
    env[m[1] as string] = m[2] as string;
  }
  return env;
};

/**
 * Frees a 30 MiB block (glibc raises its thresholds to it), then allocates 24 MiB in 512 KiB blocks, frees them
 * and reports how much of that the process's RSS gave back, in MiB.
 */
const CHILD = `
const fs = require('node:fs');
const rss = () => Number(fs.readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096;
const settle = () => new Promise((r) => { gc(); setTimeout(() => { gc(); setTimeout(r, 100); }, 100); });
(async () => {
  let big = Buffer.allocUnsafeSlow(30 << 20); big.fill(1); big = null; await settle();
  let blocks = [];
  for (let i = 0; i < 48; i++) { const b = Buffer.allocUnsafeSlow(1 << 19); b.fill(1); blocks.push(b); }
  const peak = rss(); blocks = null; await settle();
  process.stdout.write(String((peak - rss()) / 1048576));
})();
`;

const releasedMiB = (malloc: Record<string, string>): number => {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_') && k !== 'GLIBC_TUNABLES'),
  );
  return Number(
    execFileSync(process.execPath, ['--expose-gc', '-e', CHILD], {
      env: { ...env, ...malloc },
      encoding: 'utf8',
    }),
  );
};

describe("The runtime process's malloc settings", () => {
  it('are the ones `npm start` starts the runtime with', () => {
    expect(startScriptEnv()).toMatchObject(RUNTIME_MALLOC_ENV);
  });

  it('give freed memory back after a large block was freed; glibc’s defaults keep it', () => {
    // With them: the 24 MiB go back to the system.
    expect(releasedMiB(startScriptEnv())).toBeGreaterThan(20);
    // Without them (the control, so that this test can fail): glibc keeps it all resident.
    expect(releasedMiB({})).toBeLessThan(4);
  });
});
