/**
 * The first-party source maps (source-maps.ts), on a real esbuild bundle of a small project with a dependency,
 * read back with Node's own source map reader (`node:module` SourceMap, what `--enable-source-maps` uses).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decode } from '@jridgewell/sourcemap-codec';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstPartySourceMap, isFirstPartySource, type RawSourceMap } from './source-maps.ts';

let dir: string;
let full: RawSourceMap;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'source-maps-'));
  mkdirSync(path.join(dir, 'node_modules', 'lib'), { recursive: true });
  writeFileSync(
    path.join(dir, 'node_modules', 'lib', 'index.js'),
    'export function parse(text) {\n  if (!text.startsWith("{")) throw new TypeError("not an object: " + text);\n  return JSON.parse(text);\n}\nexport const twice = (f) => [f(), f()];\n',
  );
  writeFileSync(
    path.join(dir, 'app.ts'),
    'import { parse, twice } from "lib";\n\nexport function handler(input: string) {\n  const value = parse(input);\n  return twice(() => value);\n}\n',
  );
  const out = await build({
    entryPoints: [path.join(dir, 'app.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    minify: true,
    keepNames: true,
    sourcemap: true,
    sourcesContent: false,
    outfile: path.join(dir, 'out', 'index.mjs'),
    write: false,
    logLevel: 'silent',
  });
  const map = out.outputFiles.find((f) => f.path.endsWith('.map'));
  if (!map) throw new Error('esbuild wrote no map');
  full = JSON.parse(map.text) as RawSourceMap;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Every generated position a segment of the map starts at. */
const positions = (map: RawSourceMap): Array<[number, number]> =>
  decode(map.mappings).flatMap((segments, line) => segments.map((s): [number, number] => [line, s[0] ?? 0]));

describe('A bundle’s source map', () => {
  it('keeps, made first-party, every mapping into our sources and nothing into node_modules', () => {
    expect(full.sources.some((s) => s.includes('node_modules'))).toBe(true);
    const slim = firstPartySourceMap(full);
    expect(slim.sources.length).toBeGreaterThan(0);
    expect(slim.sources.every(isFirstPartySource)).toBe(true);
    expect(slim.sources.every((s) => full.sources.includes(s))).toBe(true);
    const before = new SourceMap(full as never);
    const after = new SourceMap(slim as never);
    let ours = 0;
    let theirs = 0;
    for (const [line, column] of positions(full)) {
      const a = before.findEntry(line, column) as {
        originalSource?: string;
        originalLine?: number;
        originalColumn?: number;
        name?: string;
      };
      const b = after.findEntry(line, column) as typeof a;
      if (a.originalSource && isFirstPartySource(a.originalSource)) {
        ours += 1;
        expect(b).toEqual(a);
      } else if (a.originalSource) {
        theirs += 1;
        // A position inside the library maps to nothing (never to our code before it).
        expect(b.originalSource).toBeUndefined();
      }
    }
    expect(ours).toBeGreaterThan(3);
    expect(theirs).toBeGreaterThan(3);
    expect(slim.mappings.length).toBeLessThan(full.mappings.length);
  });

  it('drops the names and contents nothing points to any more', () => {
    const withContent = { ...full, sourcesContent: full.sources.map((s) => `// ${s}`) };
    const slim = firstPartySourceMap(withContent);
    expect(slim.sourcesContent).toEqual(slim.sources.map((s) => `// ${s}`));
    expect(slim.names.length).toBeLessThanOrEqual(full.names.length);
    const used = new Set(
      decode(slim.mappings).flatMap((l) => l.flatMap((s) => (s.length >= 5 ? [s[4]] : []))),
    );
    expect(used.size).toBe(slim.names.length);
  });

  it('tells our sources from dependencies’', () => {
    expect(isFirstPartySource('../../functions/src/handlers/ws/ping.ts')).toBe(true);
    expect(isFirstPartySource('../../node_modules/ioredis/built/Redis.js')).toBe(false);
    expect(isFirstPartySource('node_modules\\kafkajs\\index.js')).toBe(false);
  });
});
