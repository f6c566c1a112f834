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

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Map([...B64].map((c, i) => [c, i]));

/** A source map (version 3) as esbuild writes it; other fields are kept as they are. */
export interface RawSourceMap {
  version: number;
  sources: string[];
  names: string[];
  mappings: string;
  sourcesContent?: (string | null)[];
  [field: string]: unknown;
}

/** One segment with absolute values: `[column]` (unmapped) or `[column, source, line, column, name?]`. */
type Segment = number[];

const decodeSegment = (text: string): number[] => {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of text) {
    const digit = B64_VALUE.get(ch);
    if (digit === undefined) throw new Error(`source map: invalid mapping character ${JSON.stringify(ch)}`);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
};

const encodeValue = (n: number): string => {
  let v = n < 0 ? (-n << 1) | 1 : n << 1;
  let s = '';
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    s += B64[digit];
  } while (v > 0);
  return s;
};

/** The mappings as lines of segments with absolute values. */
export function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let source = 0;
  let line = 0;
  let column = 0;
  let name = 0;
  for (const text of mappings.split(';')) {
    const segments: Segment[] = [];
    let generated = 0;
    for (const seg of text.split(',')) {
      if (seg === '') continue;
      const f = decodeSegment(seg);
      generated += f[0] ?? 0;
      if (f.length < 4) {
        segments.push([generated]);
        continue;
      }
      source += f[1] ?? 0;
      line += f[2] ?? 0;
      column += f[3] ?? 0;
      if (f.length >= 5) {
        name += f[4] ?? 0;
        segments.push([generated, source, line, column, name]);
      } else segments.push([generated, source, line, column]);
    }
    lines.push(segments);
  }
  return lines;
}

/** The inverse of `decodeMappings`. */
export function encodeMappings(lines: readonly (readonly Segment[])[]): string {
  let source = 0;
  let line = 0;
  let column = 0;
  let name = 0;
  return lines
    .map((segments) => {
      let generated = 0;
      return segments
        .map((s) => {
          let out = encodeValue((s[0] ?? 0) - generated);
          generated = s[0] ?? 0;
          if (s.length >= 4) {
            out +=
              encodeValue((s[1] ?? 0) - source) +
              encodeValue((s[2] ?? 0) - line) +
              encodeValue((s[3] ?? 0) - column);
            source = s[1] ?? 0;
            line = s[2] ?? 0;
            column = s[3] ?? 0;
          }
          if (s.length >= 5) {
            out += encodeValue((s[4] ?? 0) - name);
            name = s[4] ?? 0;
          }
          return out;
        })
        .join(',');
    })
    .join(';');
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
  const lines = decodeMappings(map.mappings).map((segments) => {
    const out: Segment[] = [];
    let unmapped = false;
    for (const s of segments) {
      if (s.length < 4 || !kept[s[1] ?? 0]) {
        if (!unmapped) out.push([s[0] ?? 0]);
        unmapped = true;
        continue;
      }
      unmapped = false;
      const seg: Segment = [s[0] ?? 0, sources.index(s[1] ?? 0), s[2] ?? 0, s[3] ?? 0];
      if (s.length >= 5) seg.push(names.index(s[4] ?? 0));
      out.push(seg);
    }
    return out;
  });
  const { sourcesContent: _content, ...rest } = map;
  return {
    ...rest,
    sources: sources.kept.map((i) => map.sources[i] ?? ''),
    names: names.kept.map((i) => map.names[i] ?? ''),
    mappings: encodeMappings(lines),
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
