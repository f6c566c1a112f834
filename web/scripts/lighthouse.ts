/**
 * Lighthouse against `/chat` as a signed-in user sees it: the e2e stack (local runtime over the real
 * services, the static export on the local web server), the demo accounts and their DM seeded, Debian's
 * chromium signed in as alice through the sign-in screen (playwright-core), then Lighthouse on the same
 * browser through its debugging port, storage kept (the session lives in localStorage) and the HTTP cache
 * cleared before each run.
 *
 *   npm run lighthouse -w web -- [--desktop] [--runs 3] [--root <static export dir>]
 *                                [--throttling simulate|devtools]
 *
 * `--throttling devtools`: real 4× CPU and network throttling while the page loads (Lighthouse's DevTools
 * throttling), instead of its default simulation (Lantern), which loads the page unthrottled and then multiplies
 * the observed wall time of every main-thread task by 4 over a simulated network. The two disagree on a shared
 * machine; docs/benchmarks.md gives both.
 *
 * Prints the scores and the main metrics, writes the report to `.local/lighthouse/` (JSON and HTML) and a
 * summary to `.local/lighthouse.json`. Not part of `npm test` (a timing, and minutes long).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import path from 'node:path';
import { numberFlag, parseCommandLine, type UsageFailure, usageFailure } from '@chat/kit/cli';
import { repoRoot } from '@chat/kit/paths';
import { seedDemo } from '@chat/local/seed';
import { chromium } from 'playwright-core';
import { CHROMIUM, launchArgs, startStack } from '../e2e/harness.ts';
import { AuthPage } from '../e2e/pages.ts';

const localDir = process.env.CHAT_LOCAL_DIR ?? path.join(repoRoot, '.local');
const USAGE = `usage: npm run lighthouse -w web -- [--desktop] [--runs 1] [--root <static export dir>]
                                    [--throttling simulate|devtools]
  --desktop     Lighthouse's desktop configuration (default: mobile)
  --runs        runs, the HTTP cache cleared before each (default 1)
  --root        another static export to measure (e.g. an older revision's web/out) instead of this tree's
  --throttling  simulate (Lighthouse's default, Lantern) or devtools (real 4× CPU and network throttling)`;
const fail: UsageFailure = usageFailure('lighthouse', USAGE);
const { values: args } = parseCommandLine(
  {
    args: process.argv.slice(2),
    options: {
      desktop: { type: 'boolean', default: false },
      throttling: { type: 'string', default: 'simulate' },
      /** Another static export to measure (e.g. an older revision's `web/out`), instead of this tree's. */
      root: { type: 'string' },
      runs: { type: 'string', default: '1' },
    },
  },
  fail,
);
const desktop = args.desktop ?? false;
const root = args.root ? path.resolve(args.root) : undefined;
const runs = numberFlag(args.runs, '--runs', fail, { integer: true });
const throttlingMethod = args.throttling ?? 'simulate';
if (throttlingMethod !== 'simulate' && throttlingMethod !== 'devtools')
  fail(`--throttling: simulate or devtools, not ${throttlingMethod}`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

interface LighthouseResult {
  lhr: {
    categories: Record<string, { score: number | null }>;
    audits: Record<string, { numericValue?: number; displayValue?: string }>;
    finalDisplayedUrl: string;
  };
  report: string | string[];
}
type Lighthouse = (
  url: string,
  flags: Record<string, unknown>,
  config?: unknown,
) => Promise<LighthouseResult | undefined>;

async function main(): Promise<void> {
  const stack = await startStack({ root });
  const profile = path.join(localDir, 'lighthouse', 'profile');
  let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | null = null;
  try {
    const seeded = await seedDemo({ httpApi: stack.runtime.httpUrl, wsApi: stack.runtime.wsUrl });
    const [alice] = seeded.accounts;
    const port = await freePort();
    mkdirSync(profile, { recursive: true });
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: [...launchArgs, `--remote-debugging-port=${port}`],
      baseURL: stack.url,
      viewport: { width: 1280, height: 800 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const chat = await new AuthPage(page).signIn(alice.username, alice.password);
    await chat.page.goto(`/chat?c=${encodeURIComponent(seeded.conversationId)}`);
    await chat.waitReady();
    const url = `${stack.url}/chat?c=${encodeURIComponent(seeded.conversationId)}`;

    const lighthouse = (await import('lighthouse')).default as unknown as Lighthouse;
    const config = desktop
      ? (await import('lighthouse/core/config/desktop-config.js' as string)).default
      : undefined;
    const outDir = path.join(localDir, 'lighthouse');
    const results: Array<Record<string, number | string | null>> = [];
    // a first visit of a signed-in user: the session stays (localStorage), the HTTP cache goes (Lighthouse
    // would clear both, but it cannot be told to keep only the storage)
    const cdp = await context.newCDPSession(page);
    for (let i = 0; i < runs; i++) {
      await cdp.send('Network.clearBrowserCache');
      const result = await lighthouse(
        url,
        {
          port,
          output: ['json', 'html'],
          logLevel: 'error',
          disableStorageReset: true,
          onlyCategories: ['performance', 'accessibility', 'best-practices'],
          throttlingMethod,
        },
        config,
      );
      if (!result) throw new Error('lighthouse returned no result');
      const { lhr } = result;
      const metric = (id: string) => lhr.audits[id]?.numericValue ?? null;
      const summary = {
        run: i + 1,
        formFactor: desktop ? 'desktop' : 'mobile',
        throttling: throttlingMethod,
        url: lhr.finalDisplayedUrl,
        performance: Math.round((lhr.categories.performance?.score ?? 0) * 100),
        accessibility: Math.round((lhr.categories.accessibility?.score ?? 0) * 100),
        bestPractices: Math.round((lhr.categories['best-practices']?.score ?? 0) * 100),
        fcpMs: metric('first-contentful-paint'),
        lcpMs: metric('largest-contentful-paint'),
        tbtMs: metric('total-blocking-time'),
        cls: metric('cumulative-layout-shift'),
        speedIndexMs: metric('speed-index'),
        interactiveMs: metric('interactive'),
        // the machine's 1-minute load average when the run ended: on a shared machine, read every figure with it
        loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
      };
      results.push(summary);
      console.log(JSON.stringify(summary));
      const [json, html] = result.report as string[];
      mkdirSync(outDir, { recursive: true });
      const base = path.join(outDir, `chat-${desktop ? 'desktop' : 'mobile'}-${i + 1}`);
      writeFileSync(`${base}.json`, json ?? '');
      writeFileSync(`${base}.html`, html ?? '');
    }
    const dest = path.join(localDir, 'lighthouse.json');
    writeFileSync(
      dest,
      `${JSON.stringify({ measuredAt: new Date().toISOString(), lighthouse: '12.2.3', results }, null, 2)}\n`,
    );
    console.log(
      `written ${path.relative(repoRoot, dest)} and reports in ${path.relative(repoRoot, outDir)}/`,
    );
  } finally {
    await context?.close().catch(() => undefined);
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
