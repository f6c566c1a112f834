/**
 * What a person sees: the time from the sender's Enter key to the message in the other person's window, through
 * the real web client on both sides (two browser contexts, the DM of the demo accounts). Timed inside the pages,
 * not by the test driver: the sender's page stamps its `keydown`, the receiver's page a MutationObserver's first
 * sight of the bubble (both `Date.now()`, one machine). A Playwright `waitFor` polls at growing intervals and
 * reads ≈ 100–200 ms more than the page saw; that figure is printed beside it ("driver").
 * The receiver runs with the latency trace on (`localStorage['chat:trace']`), so each message also gives the
 * platform's hops (received → produced → fetched → persisted → pushed → client) and what is left is the two
 * clients' own share (keydown → frame sent, frame received → bubble in the DOM).
 *
 *   npx tsx web/scripts/ui-latency.ts [--messages 40] [--interval-ms 1000]     its own stack (web/out, a seeded DM)
 *   npx tsx web/scripts/ui-latency.ts --url http://localhost:3000               a running `npm start` (its demo accounts)
 *
 * Prints one line per message with `--verbose`, then p50/p99 per figure; writes `.local/ui-latency.json`.
 * Not part of `npm test` (a timing).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { numberFlag, parseCommandLine, type UsageFailure, usageFailure } from '@chat/kit/cli';
import { repoRoot } from '@chat/kit/paths';
import { percentileSorted } from '@chat/kit/stats';
import { type DemoAccount, demoAccounts, seedDemo } from '@chat/local/seed';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ensureChromium, launchArgs, startStack } from '../e2e/harness.ts';
import { AuthPage, type ChatPage } from '../e2e/pages.ts';
import { parseTraceLine, TRACE_FLAG } from '../lib/chat/trace.ts';

/** p50 and p99 (nearest rank, as the bench's) of each key, over the rows that have it. */
export function percentiles(
  rows: ReadonlyArray<Record<string, number>>,
): Record<string, { p50: number; p99: number; n: number }> {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(
    keys.map((k) => {
      const v = Float64Array.from(
        rows.map((r) => r[k]).filter((x): x is number => typeof x === 'number'),
      ).sort();
      return [k, { p50: percentileSorted(v, 50), p99: percentileSorted(v, 99), n: v.length }];
    }),
  );
}

interface Window_ {
  __seen?: number | null;
  __sent?: number | null;
}

async function measure(sender: ChatPage, receiver: ChatPage, text: string) {
  const traces: string[] = [];
  const onConsole = (m: { type(): string; text(): string }) => {
    if (m.type() === 'info') traces.push(m.text());
  };
  receiver.page.on('console', onConsole);
  await receiver.page.evaluate((t) => {
    const w = window as unknown as Window_;
    w.__seen = null;
    // no named function in here: tsx would wrap it in a helper the page does not have
    const obs = new MutationObserver(() => {
      const bubbles = document.querySelectorAll('[data-testid="message"]');
      if (w.__seen == null && [...bubbles].some((m) => m.textContent?.includes(t))) {
        w.__seen = Date.now();
        obs.disconnect();
      }
    });
    obs.observe(document.body, { childList: true, subtree: true, characterData: true });
  }, text);
  await sender.composer().fill(text);
  await sender.page.evaluate(() => {
    const w = window as unknown as Window_;
    w.__sent = null;
    document.addEventListener(
      'keydown',
      () => {
        w.__sent ??= Date.now();
      },
      { once: true, capture: true },
    );
  });
  const t0 = Date.now();
  await sender.composer().press('Enter');
  await receiver.message(text).first().waitFor({ timeout: 15_000 });
  const driver = Date.now() - t0;
  const seen = await receiver.page.evaluate(() => (window as unknown as Window_).__seen ?? null);
  const sent = await sender.page.evaluate(() => (window as unknown as Window_).__sent ?? null);
  // the trace line is logged when the frame arrives, before the bubble renders; give it a moment if not yet in
  for (let i = 0; i < 20 && !traces.some((l) => parseTraceLine(l)); i++)
    await new Promise((r) => setTimeout(r, 25));
  receiver.page.off('console', onConsole);
  const trace = traces.map(parseTraceLine).find((t) => t !== null);
  const row: Record<string, number> = { driver };
  if (seen !== null && sent !== null) row.inPage = seen - sent;
  if (trace) {
    for (const [k, v] of Object.entries(trace.hops)) row[k] = v;
    if (row.inPage !== undefined && trace.hops.total !== undefined)
      row.clients = row.inPage - trace.hops.total;
  }
  return row;
}

const USAGE = `usage: npx tsx web/scripts/ui-latency.ts [--messages 40] [--interval-ms 1000] [--url URL] [--verbose]
  --messages     messages to time (default 40)
  --interval-ms  pause between two messages (default 1000; 0: none)
  --url          a running \`npm start\` (its demo accounts) instead of an own stack (web/out, a seeded DM)
  --verbose      one line per message`;

async function main(): Promise<void> {
  const fail: UsageFailure = usageFailure('ui-latency', USAGE);
  const { values: args } = parseCommandLine(
    {
      args: process.argv.slice(2),
      options: {
        url: { type: 'string' },
        messages: { type: 'string', default: '40' },
        'interval-ms': { type: 'string', default: '1000' },
        verbose: { type: 'boolean', default: false },
      },
    },
    fail,
  );
  const count = numberFlag(args.messages, '--messages', fail, { integer: true });
  const interval = numberFlag(args['interval-ms'], '--interval-ms', fail, { integer: true, inclusive: true });
  let browser: Browser;
  let baseURL: string;
  let accounts: readonly [DemoAccount, DemoAccount];
  let stop = async () => undefined as unknown;
  if (args.url) {
    baseURL = args.url;
    browser = await chromium.launch({ executablePath: ensureChromium(), args: launchArgs });
    stop = () => browser.close();
    accounts = demoAccounts;
  } else {
    const stack = await startStack();
    stop = () => stack.stop();
    browser = stack.browser;
    baseURL = stack.url;
    const seeded = await seedDemo({ httpApi: stack.runtime.httpUrl, wsApi: stack.runtime.wsUrl });
    accounts = seeded.accounts;
  }
  try {
    const open = async (me: DemoAccount, peer: DemoAccount, trace: boolean): Promise<ChatPage> => {
      const ctx = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 } });
      if (trace) await ctx.addInitScript((flag) => localStorage.setItem(flag, '1'), TRACE_FLAG);
      const page: Page = await ctx.newPage();
      const chat = await new AuthPage(page).signIn(me.username, me.password);
      await chat.open(peer.displayName);
      await chat.waitConnected();
      return chat;
    };
    const [a, b] = accounts;
    const sender = await open(a, b, false);
    const receiver = await open(b, a, true);
    const rows: Array<Record<string, number>> = [];
    const tag = Date.now().toString(36);
    for (let i = 0; i < count; i++) {
      const row = await measure(sender, receiver, `ui-latency ${tag} ${i}`);
      rows.push(row);
      if (args.verbose) console.log(JSON.stringify({ message: i + 1, ...row }));
      if (interval) await new Promise((r) => setTimeout(r, interval));
    }
    const figures = percentiles(rows);
    const summary = { url: args.url ?? 'own stack', messages: count, loadAverage: loadavg()[0], ...figures };
    for (const [k, v] of Object.entries(figures))
      console.log(
        `${k.padEnd(22)} p50 ${String(v.p50).padStart(5)} ms  p99 ${String(v.p99).padStart(5)} ms  (${v.n})`,
      );
    const out = path.join(process.env.CHAT_LOCAL_DIR ?? path.join(repoRoot, '.local'), 'ui-latency.json');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(
      out,
      `${JSON.stringify({ measuredAt: new Date().toISOString(), ...summary, rows }, null, 2)}\n`,
    );
    console.log(`written ${path.relative(repoRoot, out)}`);
  } finally {
    await stop();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
