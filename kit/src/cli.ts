import { type ParseArgsConfig, parseArgs } from 'node:util';

/** What a command line that cannot be used does: by default, one line and the usage on stderr, then exit 2. */
export type UsageFailure = (message: string) => never;

/**
 * The usage error every command of the project ends with: `<command>: <message>`, the usage, exit code 2. No
 * stack trace: the mistake is the caller's, not the program's.
 */
export function usageFailure(command: string, usage: string): UsageFailure {
  return (message: string): never => {
    process.stderr.write(`${command}: ${message}\n${usage.trimEnd()}\n`);
    process.exit(2);
  };
}

/**
 * `parseArgs`, strict, with its errors (an unknown flag, a flag without its value, a stray argument) handed to
 * `fail` as one line instead of thrown.
 */
export function parseCommandLine<T extends ParseArgsConfig>(
  config: T,
  fail: UsageFailure,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>({ strict: true, ...config });
  } catch (e) {
    return fail(usageErrorMessage(e));
  }
}

/** The one line to show for a command-line error: its message, without the hint about `--` that node appends to some. */
export function usageErrorMessage(e: unknown): string {
  return e instanceof Error ? e.message.replace(/\. To specify a positional argument.*$/s, '') : String(e);
}

/**
 * A flag's number: `undefined` when the flag is absent, else a finite number above `min` (default 0; at least
 * `min` with `inclusive`), an integer with `integer`, or `fail` with the flag's name and what was given. A flag
 * with a default in `parseArgs` is always a string: its number is then never `undefined`.
 */
export function numberFlag(value: string, flag: string, fail: UsageFailure, opts?: NumberFlagOptions): number;
export function numberFlag(
  value: string | undefined,
  flag: string,
  fail: UsageFailure,
  opts?: NumberFlagOptions,
): number | undefined;
export function numberFlag(
  value: string | undefined,
  flag: string,
  fail: UsageFailure,
  opts: NumberFlagOptions = {},
): number | undefined {
  if (value === undefined) return undefined;
  const min = opts.min ?? 0;
  const n = value.trim() === '' ? Number.NaN : Number(value);
  const low = opts.inclusive ? n < min : n <= min;
  if (!Number.isFinite(n) || low || (opts.integer && !Number.isInteger(n))) {
    const what = opts.integer ? 'an integer' : 'a number';
    return fail(`${flag} must be ${what} ${opts.inclusive ? 'at least' : 'above'} ${min}, got '${value}'`);
  }
  return n;
}

export interface NumberFlagOptions {
  /** The bound: numbers above it (default 0), or at least it with `inclusive`. */
  readonly min?: number;
  readonly inclusive?: boolean;
  readonly integer?: boolean;
}
