/**
 * Summarize V8 CPU profiles (from BENCH_CPU_PROF=<dir> npm run bench …): self time by package/module and by
 * function, over every profile in the folder (the runtime's main thread and each execution environment).
 *
 *   npx tsx bench/src/tools/cpuprof-top.ts <dir> [top=25] [file-name-filter]
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberFlag, parseCommandLine, type UsageFailure, usageFailure } from '@chat/kit/cli';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * `only`: keep only profiles whose file name contains this (e.g. persistFanout). `--from`/`--to` (ISO times or
 * epoch ms, e.g. the measured window the bench logs): keep only samples taken in that wall-clock window. A
 * profile's samples are placed on the wall clock from its file's modification time (written when the profile
 * stopped: the environments' 10 s chunks, the main thread's `--cpu-prof` at exit), to within a second or so.
 */
const fail: UsageFailure = usageFailure(
  'cpuprof-top',
  `usage: npx tsx bench/src/tools/cpuprof-top.ts <dir> [top=25] [file-name-filter] [--from T] [--to T]
  top               rows per table (default 25)
  file-name-filter  only the profiles whose file name contains it (e.g. persistFanout)
  --from, --to      only the samples in that wall-clock window (ISO times or epoch ms)`,
);
const {
  positionals: [dir, topArg = '25', only],
  values: { from, to },
} = parseCommandLine(
  {
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' } },
  },
  fail,
);
if (!dir) fail('no profile folder given');
const top = numberFlag(topArg, 'top', fail, { integer: true });
const wallMs = (t: string | undefined, flag: string, dflt: number): number => {
  if (t === undefined) return dflt;
  const n = /^\d+$/.test(t) ? Number(t) : Date.parse(t);
  if (!Number.isFinite(n)) fail(`${flag}: not a time: '${t}'`);
  return n;
};
const fromMs = wallMs(from, '--from', -Infinity);
const toMs = wallMs(to, '--to', Infinity);

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
/** Inclusive time per project module (functions/src/…, local/…): every sample with the module on its stack. */
const inclusiveOurs = new Map<string, number>();
/** Native/GC self time charged to the nearest JavaScript caller (writev, postMessage, hashing…). */
const nativeByCaller = new Map<string, number>();
let total = 0;
const files = (readdirSync(dir, { recursive: true }) as string[]).filter(
  (f) => f.endsWith('.cpuprofile') && (!only || f.includes(only)),
);
for (const f of files) {
  const file = path.join(dir, f);
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  if (statSync(file).mtimeMs - (p.endTime - p.startTime) / 1000 > toMs) continue;
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, Node>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n);
  // Wall-clock time of the profile's start (microseconds on V8's clock → ms since the epoch).
  const wallStart = statSync(file).mtimeMs - (p.endTime - p.startTime) / 1000;
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    const n = nodes.get(p.samples[i] as number);
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    t += p.timeDeltas[i] ?? 0;
    const at = wallStart + (t - p.startTime) / 1000;
    if (at < fromMs || at > toMs) continue;
    if (!n) continue;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)' || name === '(program)') continue;
    // An environment's profile restarted from an inspector call: while the thread then waits in its event loop,
    // V8 charges the samples to that call (`dispatch` under `node:inspector`'s post): idle, not work.
    if (name === 'dispatch' && parent.get(n.id)?.callFrame.url === 'node:inspector') continue;
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
    const seen = new Set<string>();
    for (let a: Node | undefined = n; a; a = parent.get(a.id)) {
      const mod = bucket(a.callFrame.url, a.callFrame.lineNumber);
      if (/^(functions\/src|local\/|kit\/)/.test(mod) && !seen.has(mod)) {
        seen.add(mod);
        inclusiveOurs.set(mod, (inclusiveOurs.get(mod) ?? 0) + dt);
      }
    }
    if (!n.callFrame.url) {
      let a = parent.get(n.id);
      while (a && !a.callFrame.url) a = parent.get(a.id);
      const caller = a
        ? `${name} ← ${a.callFrame.functionName || '(anonymous)'} ${bucket(a.callFrame.url, a.callFrame.lineNumber)}:${a.callFrame.lineNumber + 1}`
        : `${name} ← (root)`;
      nativeByCaller.set(caller, (nativeByCaller.get(caller) ?? 0) + dt);
    }
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
print('native/GC self time by nearest JavaScript caller', nativeByCaller);
print('inclusive time by project module (samples with the module on the stack)', inclusiveOurs);
