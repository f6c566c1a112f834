/**
 * Summarize V8 CPU profiles (from BENCH_CPU_PROF=<dir> npm run bench …): self time by package/module and by
 * function, over every profile in the folder (the runtime's main thread and each execution environment).
 *
 *   npx tsx bench/src/tools/cpuprof-top.ts <dir> [top=25] [file-name-filter]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** `only`: keep only profiles whose file name contains this (e.g. persistFanout). */
const {
  positionals: [dir, topArg = '25', only],
} = parseArgs({ args: process.argv.slice(2), allowPositionals: true, options: {} });
const top = Number(topArg);
if (!dir || !Number.isInteger(top) || top <= 0)
  throw new Error('usage: cpuprof-top <dir> [top=25] [file-name-filter]');

/**
 * An unminified esbuild bundle marks each module with a `// path` line: the module a bundle line belongs to is
 * the last such marker above it (profiles of the environments name bundle lines only).
 */
const bundleModules = new Map<string, { lines: number[]; names: string[] }>();
const bundleModule = (url: string, line: number): string | undefined => {
  let m = bundleModules.get(url);
  if (!m) {
    m = { lines: [], names: [] };
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    if (existsSync(file)) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((text, i) => {
          const hit = /^\/\/ ((?:\.\.\/)*[\w@.-]+\/\S+\.[cm]?[jt]s)$/.exec(text);
          if (hit) {
            m?.lines.push(i);
            m?.names.push((hit[1] as string).replace(/^(\.\.\/)+/, ''));
          }
        });
    }
    bundleModules.set(url, m);
  }
  let lo = 0;
  let hi = m.lines.length - 1;
  let found: string | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((m.lines[mid] as number) <= line) {
      found = m.names[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
};

const bucket = (url: string, line = 0): string => {
  if (!url) return '(native/gc/idle)';
  if (url.includes('/.local/build/')) {
    const mod = bundleModule(url, line);
    if (mod) return bucket(mod);
  }
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return `npm:${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (url.startsWith('node:')) return url;
  const m = /(functions\/src\/[^/]+(?:\/[^/]+)?|infra\/local\/runtime\/[^/]+|bench\/src)/.exec(url);
  if (url.startsWith('node_modules/')) return bucket(`/${url}`);
  if (m) return m[1] as string;
  if (url.includes('/.local/build/')) return `bundle:${path.basename(url)}`;
  return url.slice(-60);
};

const byBucket = new Map<string, number>();
const byProfile = new Map<string, number>();
const byFn = new Map<string, number>();
let total = 0;
const files = (readdirSync(dir, { recursive: true }) as string[]).filter(
  (f) => f.endsWith('.cpuprofile') && (!only || f.includes(only)),
);
for (const f of files) {
  const p = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Profile;
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  for (let i = 0; i < p.samples.length; i++) {
    const n = nodes.get(p.samples[i] as number);
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    if (!n) continue;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)' || name === '(program)') continue;
    total += dt;
    const b = bucket(n.callFrame.url, n.callFrame.lineNumber);
    const group = path
      .basename(f)
      .replace(/-\d+-\d+-\d+\.cpuprofile$/, '')
      .replace(/^CPU\..*/, '(runtime main)');
    byProfile.set(group, (byProfile.get(group) ?? 0) + dt);
    byBucket.set(b, (byBucket.get(b) ?? 0) + dt);
    const key = `${name} ${b}:${n.callFrame.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + dt);
  }
}
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${v.toFixed(0).padStart(8)} ms ${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`);
  }
};
console.log(`${files.length} profiles, ${total.toFixed(0)} ms of non-idle samples`);
print('self time by profile (function)', byProfile);
print('self time by module', byBucket);
print('self time by function', byFn);
