/**
 * On-CPU profile of the runtime process from Linux `perf` (true CPU samples, unlike V8's profiler, whose
 * samples are taken on a wall-clock timer and, on a machine with many more runnable threads than cores, land
 * mostly where a thread was descheduled: system calls, native writes, hashing). Splits the samples by kind of
 * work (JavaScript in JIT code, V8 builtins and inline caches — what unoptimized code spends its time in —, the
 * optimizing compiler and parser, GC, kernel, libc) and by thread (the main thread; the threads that existed
 * when the runtime started, i.e. V8's platform threads, given by `--helpers`; the rest: the environments), and
 * lists the top symbols (JavaScript functions too when the runtime ran with `--perf-basic-prof`:
 * `BENCH_RUNTIME_NODE_ARGS=--perf-basic-prof`).
 *
 *   perf record -F 499 -e cpu-clock -g -p <runtime pid> -o perf.data -- sleep 25
 *   npx tsx bench/src/tools/perf-split.ts perf.data <runtime pid> [--helpers tid,tid,…] [--top 30]
 */
import { execFileSync } from 'node:child_process';
import { numberFlag, parseCommandLine, type UsageFailure, usageFailure } from '@chat/kit/cli';

const fail: UsageFailure = usageFailure(
  'perf-split',
  `usage: npx tsx bench/src/tools/perf-split.ts <perf.data> <pid> [--helpers tid,…] [--top 30]
  <pid>      the runtime's process id (its main thread)
  --helpers  the threads that existed when the runtime started (V8's platform threads)
  --top      top symbols to list (default 30)`,
);
const {
  positionals: [data, pidArg],
  values: { helpers, top: topArg },
} = parseCommandLine(
  {
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { helpers: { type: 'string' }, top: { type: 'string', default: '30' } },
  },
  fail,
);
if (!data || !pidArg) fail('a perf.data file and the runtime pid are needed');
const pid = numberFlag(pidArg, '<pid>', fail, { integer: true });
const top = numberFlag(topArg, '--top', fail, { integer: true });
const helperTids = new Set(
  (helpers ?? '')
    .split(',')
    .filter(Boolean)
    .map((t) => numberFlag(t, '--helpers', fail, { integer: true })),
);

const kind = (sym: string, dso: string): string => {
  if (dso.includes('kernel')) return 'kernel (system calls, scheduling, page faults)';
  if (dso.includes('JIT') || dso.includes('perf-') || dso === '[unknown]') return 'JavaScript (JIT code)';
  if (dso.includes('libc')) return 'libc (malloc, memcpy)';
  if (
    /compiler::|Compiler|Parser|Scanner|Zone|baseline::|Bytecode(?!Handler)|AstNode|Turbofan|maglev/.test(sym)
  )
    return 'JIT compiler and parser';
  if (/Scavenge|Marking|Mark[A-Z]|Sweep|Heap::|Evacuat|MemoryAllocator|PagedSpace|MinorMC|GC/.test(sym))
    return 'garbage collection';
  if (sym.startsWith('Builtins_')) return 'V8 builtins and inline caches';
  if (sym.startsWith('uv_') || sym.startsWith('uv__')) return 'libuv';
  return 'other V8/Node runtime';
};

const out = execFileSync('perf', ['script', '-i', data, '-F', 'tid,ip,sym,dso', '-G'], {
  encoding: 'utf8',
  maxBuffer: 1 << 30,
  stdio: ['ignore', 'pipe', 'ignore'],
});
const byKind = new Map<string, number>();
const byRole = new Map<string, Map<string, number>>();
const bySym = new Map<string, number>();
let total = 0;
const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
for (const line of out.split('\n')) {
  const m = /^\s*(\d+)\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$/.exec(line);
  if (!m) continue;
  const tid = Number(m[1]);
  const sym = m[2] as string;
  const dso = m[3] as string;
  const k = kind(sym, dso);
  const role =
    tid === pid ? 'main thread' : helperTids.has(tid) ? 'start-up threads (V8 platform…)' : 'environments';
  total += 1;
  add(byKind, k);
  const r = byRole.get(role) ?? new Map<string, number>();
  byRole.set(role, r);
  add(r, k);
  add(bySym, `${sym || '?'} (${dso.replace(/^.*\//, '')})`);
}
const pct = (v: number) => `${((v / total) * 100).toFixed(1).padStart(5)} %`;
const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
console.log(`${total} samples`);
console.log('\nby kind of work');
for (const [k, v] of sorted(byKind)) console.log(`${pct(v)}  ${k}`);
console.log('\nby thread');
for (const [role, m] of sorted(
  new Map([...byRole].map(([r, km]) => [r, [...km.values()].reduce((a, b) => a + b, 0)])),
)) {
  const parts = sorted(byRole.get(role) as Map<string, number>)
    .map(([k, v]) => `${k} ${((v / total) * 100).toFixed(1)}`)
    .join(', ');
  console.log(`${pct(m)}  ${role}: ${parts}`);
}
console.log('\ntop symbols');
for (const [k, v] of sorted(bySym).slice(0, top)) console.log(`${pct(v)}  ${k}`);
