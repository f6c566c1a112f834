import { createHash } from 'node:crypto';
import type { redis } from './client.ts';

/** A Lua script and its SHA-1 (what EVALSHA names it by). */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

export const script = (source: string): Script => ({
  source,
  sha: createHash('sha1').update(source).digest('hex'),
});

/** Runs a script by its SHA (EVALSHA), loading it (EVAL) only when Redis does not know it yet. */
export async function runScript(
  r: ReturnType<typeof redis>,
  s: Script,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await r.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
    return r.eval(s.source, keys.length, ...keys, ...args);
  }
}
