import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { numberFlag, parseCommandLine, type UsageFailure, usageErrorMessage } from './cli.ts';

/** A failure that throws what it was given, so that a test can read it. */
const failing: UsageFailure = (message) => {
  throw new Error(`usage: ${message}`);
};

describe('parseCommandLine', () => {
  const options = { rate: { type: 'string', short: 'R' }, help: { type: 'boolean' } } as const;

  it('returns the flags', () => {
    expect(parseCommandLine({ args: ['-R', '5', '--help'], options }, failing).values).toEqual({
      rate: '5',
      help: true,
    });
  });

  it('hands an unknown flag, a missing value and a stray argument to the failure, as one line', () => {
    expect(() => parseCommandLine({ args: ['--bogus'], options }, failing)).toThrow(
      /^usage: Unknown option '--bogus'$/,
    );
    expect(() => parseCommandLine({ args: ['-R'], options }, failing)).toThrow(
      /usage: Option '-R.*argument missing/,
    );
    expect(() => parseCommandLine({ args: ['extra'], options }, failing)).toThrow(
      /usage: Unexpected argument 'extra'/,
    );
  });

  it('drops the hint about -- that node appends', () => {
    expect(
      usageErrorMessage(
        new Error("Unknown option '--x'. To specify a positional argument starting with a '-', …"),
      ),
    ).toBe("Unknown option '--x'");
    expect(usageErrorMessage('plain')).toBe('plain');
  });
});

describe('numberFlag', () => {
  it('reads numbers above the minimum, and nothing when the flag is absent', () => {
    expect(numberFlag(undefined, '-R', failing)).toBeUndefined();
    expect(numberFlag('2.5', '-R', failing)).toBe(2.5);
    expect(numberFlag('0', '--seed', failing, { integer: true, inclusive: true })).toBe(0);
  });

  it('refuses what is not one, naming the flag and the value', () => {
    expect(() => numberFlag('abc', '-R', failing)).toThrow("usage: -R must be a number above 0, got 'abc'");
    expect(() => numberFlag('', '-R', failing)).toThrow(/-R must be a number/);
    expect(() => numberFlag('0', '-C', failing)).toThrow(/-C must be a number above 0/);
    expect(() => numberFlag('Infinity', '-C', failing)).toThrow(/-C/);
    expect(() => numberFlag('-0.5', '--within', failing, { inclusive: true })).toThrow(
      "usage: --within must be a number at least 0, got '-0.5'",
    );
    expect(() => numberFlag('1.5', '-C', failing, { integer: true })).toThrow(
      "usage: -C must be an integer above 0, got '1.5'",
    );
  });
});

describe('usageFailure', () => {
  it('prints the command, the message and the usage on stderr, and exits 2', () => {
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
    const script = `import { usageFailure } from ${JSON.stringify(cli)}; usageFailure('demo', 'usage: demo [--x]')("bad flag");`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('demo: bad flag\nusage: demo [--x]\n');
    expect(r.stdout).toBe('');
  });
});
