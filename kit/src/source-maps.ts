/**
 * First-party source maps for the function bundles, on AWS (a CDK bundling hook, infra/) and locally (the local
 * runtime's bundler, local/), so both run the same map.
 *
 * Why: every function runs with `--enable-source-maps` (readable stack traces in the logs). The first time a
 * function formats a stack (the logger does for every error it logs), Node decodes the bundle's whole map and
 * keeps it: ≈ 330,000 mappings for a bundle with the AWS SDK and the database drivers, ≈ 36 MB of heap and
 * ≈ 130 ms of CPU in that sandbox (measured: the sweeper's environment went from 14 to 51 MB of live heap on its
 * first logged error). Only ≈ 4 % of those mappings point into this repository's code; a frame inside a library
 * keeps its bundle position (`index.mjs:1:123456`) and its function name (the bundles keep names), which is
 * what a stack trace needs to say where our code called it.
 */

import { decode, encode, type SourceMapSegment } from '@jridgewell/sourcemap-codec';

/** A source map (version 3) as esbuild writes it; other fields are kept as they are. */
export interface RawSourceMap {
  version: number;
  sources: string[];
  names: string[];
  mappings: string;
  sourcesContent?: (string | null)[];
  [field: string]: unknown;
}

/** A source this repository wrote (not a dependency's). */
export const isFirstPartySource = (source: string): boolean => !/(^|[\\/])node_modules[\\/]/.test(source);

/**
 * The map with only the mappings into sources `keep` accepts: a run of other mappings becomes one unmapped
 * segment (so a position in a library maps to nothing rather than to the code before it), and the sources,
 * contents and names nothing points to any more are dropped.
 */
export function firstPartySourceMap(
  map: RawSourceMap,
  keep: (source: string) => boolean = isFirstPartySource,
): RawSourceMap {
  const sources = renumbering();
  const names = renumbering();
  const kept = map.sources.map((s) => keep(s));
  const lines = decode(map.mappings).map((segments) => {
    const out: SourceMapSegment[] = [];
    let unmapped = false;
    for (const s of segments) {
      if (s.length === 1 || !kept[s[1]]) {
        if (!unmapped) out.push([s[0]]);
        unmapped = true;
        continue;
      }
      unmapped = false;
      out.push(
        s.length === 5
          ? [s[0], sources.index(s[1]), s[2], s[3], names.index(s[4])]
          : [s[0], sources.index(s[1]), s[2], s[3]],
      );
    }
    return out;
  });
  const { sourcesContent: _content, ...rest } = map;
  return {
    ...rest,
    sources: sources.kept.map((i) => map.sources[i] ?? ''),
    names: names.kept.map((i) => map.names[i] ?? ''),
    mappings: encode(lines),
    ...(map.sourcesContent
      ? { sourcesContent: sources.kept.map((i) => map.sourcesContent?.[i] ?? null) }
      : {}),
  };
}

/** New indices, in order of first use, for the old indices still used; `kept` lists the old ones. */
function renumbering(): { index: (old: number) => number; kept: number[] } {
  const byOld = new Map<number, number>();
  const kept: number[] = [];
  return {
    kept,
    index(old) {
      let i = byOld.get(old);
      if (i === undefined) {
        i = kept.length;
        byOld.set(old, i);
        kept.push(old);
      }
      return i;
    },
  };
}

/** `firstPartySourceMap` of a map file's text (JSON). */
export const firstPartySourceMapText = (text: string): string =>
  JSON.stringify(firstPartySourceMap(JSON.parse(text) as RawSourceMap));
