/**
 * The main thread's work during a signed-in load of `/chat`, as CPU time as well as wall time: on a shared
 * machine Lighthouse's simulated throttling multiplies the *wall* duration of every task by 4, so other
 * processes' load inflates its TBT and LCP; the thread's CPU time (the trace's `tdur`) is what the page costs.
 * Same stack, seed and sign-in as `scripts/lighthouse.ts`, a phone-sized viewport, the HTTP cache cleared
 * before each load, no throttling.
 *
 *   npx tsx web/scripts/load-trace.ts [--loads 5] [--root <static export dir>]
 *
 * Prints one JSON line per load (observed LCP; main-thread CPU ms before it and in all; wall ms; the TBT that
 * the tasks' wall and CPU durations × 4 would give after FCP) and the medians. Not part of `npm test`.
 */

import { readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { numberFlag, parseCommandLine, type UsageFailure, usageFailure } from '@chat/kit/cli';
import { seedDemo } from '@chat/local/seed';
import { startStack } from '../e2e/harness.ts';
import { AuthPage } from '../e2e/pages.ts';

const USAGE = `usage: npx tsx web/scripts/load-trace.ts [--loads 5] [--root <static export dir>]
  --loads  loads of /chat to trace (default 5)
  --root   another static export to load (default web/out)`;
const fail: UsageFailure = usageFailure('load-trace', USAGE);
const { values: args } = parseCommandLine(
  {
    args: process.argv.slice(2),
    options: { loads: { type: 'string', default: '5' }, root: { type: 'string' } },
  },
  fail,
);
const loads = numberFlag(args.loads, '--loads', fail, { integer: true });

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { data?: { documentLoaderURL?: string } };
}

export function analyzeTrace(events: TraceEvent[]) {
  const nav = events.find(
    (e) => e.name === 'navigationStart' && e.args?.data?.documentLoaderURL?.includes('/chat'),
  );
  if (!nav) throw new Error('no navigation to /chat in the trace');
  const t0 = nav.ts;
  // the page's main thread: the one that evaluated the most scripts
  const scripts = new Map<string, number>();
  for (const e of events)
    if (e.name === 'EvaluateScript')
      scripts.set(`${e.pid}:${e.tid}`, (scripts.get(`${e.pid}:${e.tid}`) ?? 0) + 1);
  const main = [...scripts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const all = events.filter(
    (e) => `${e.pid}:${e.tid}` === main && e.ph === 'X' && e.name === 'RunTask' && e.ts >= t0,
  );
  const tasks = all.filter(
    (k) => !all.some((o) => o !== k && o.ts <= k.ts && o.ts + (o.dur ?? 0) >= k.ts + (k.dur ?? 0)),
  );
  const lcps = events.filter((e) => e.name === 'largestContentfulPaint::Candidate' && e.ts >= t0);
  const lcp = lcps.at(-1)?.ts ?? null;
  const fcp = events.find((e) => e.name === 'firstContentfulPaint' && e.ts >= t0)?.ts ?? t0;
  const r = { cpuBeforeLcp: 0, cpu: 0, wall: 0, tbtWallX4: 0, tbtCpuX4: 0 };
  for (const k of tasks) {
    const wall = (k.dur ?? 0) / 1000;
    const cpu = (k.tdur ?? k.dur ?? 0) / 1000;
    r.cpu += cpu;
    r.wall += wall;
    if (lcp !== null && k.ts < lcp) r.cpuBeforeLcp += cpu;
    if (k.ts > fcp) {
      r.tbtWallX4 += Math.max(0, wall * 4 - 50);
      r.tbtCpuX4 += Math.max(0, cpu * 4 - 50);
    }
  }
  return {
    lcpMs: lcp === null ? null : Math.round((lcp - t0) / 1000),
    ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v)])),
  };
}

async function main(): Promise<void> {
  const stack = await startStack({ root: args.root ? path.resolve(args.root) : undefined });
  const tracePath = path.join(tmpdir(), `chat-load-trace-${process.pid}.json`);
  try {
    const seeded = await seedDemo({ httpApi: stack.runtime.httpUrl, wsApi: stack.runtime.wsUrl });
    const [alice] = seeded.accounts;
    const context = await stack.browser.newContext({
      baseURL: stack.url,
      viewport: { width: 412, height: 823 },
      deviceScaleFactor: 1.75,
      isMobile: true,
      hasTouch: true,
    });
    const page = await context.newPage();
    const chat = await new AuthPage(page).signIn(alice.username, alice.password);
    const url = `/chat?c=${encodeURIComponent(seeded.conversationId)}`;
    await chat.page.goto(url);
    await chat.waitConnected();
    const cdp = await context.newCDPSession(page);
    const rows: Array<Record<string, number | null>> = [];
    for (let i = 0; i < loads; i++) {
      await page.goto('about:blank');
      await cdp.send('Network.clearBrowserCache');
      await stack.browser.startTracing(page, {
        path: tracePath,
        categories: [
          'devtools.timeline',
          'disabled-by-default-devtools.timeline',
          'loading',
          'blink.user_timing',
        ],
      });
      await page.goto(url);
      await page.waitForTimeout(5_000);
      await stack.browser.stopTracing();
      const trace = JSON.parse(readFileSync(tracePath, 'utf8')) as { traceEvents: TraceEvent[] };
      const row = { load: i + 1, ...analyzeTrace(trace.traceEvents), loadAverage: loadavg()[0] ?? 0 };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
    const median = (k: string) => {
      const v = rows
        .map((r) => r[k])
        .filter((x): x is number => typeof x === 'number')
        .sort((a, b) => a - b);
      return v[Math.floor(v.length / 2)] ?? null;
    };
    console.log(
      JSON.stringify({
        median: Object.fromEntries(
          ['lcpMs', 'cpuBeforeLcp', 'cpu', 'wall', 'tbtWallX4', 'tbtCpuX4', 'loadAverage'].map((k) => [
            k,
            median(k),
          ]),
        ),
      }),
    );
  } finally {
    rmSync(tracePath, { force: true });
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
