/**
 * First-load JavaScript of a page of the static export (default `/chat`), gzip-compressed: every script the
 * page's HTML loads before it is interactive (`<script src>` but not `noModule`, and `<link rel="preload"
 * as="script">`), each
 * gzipped on its own as a server or CDN sends it. Chunks loaded later by `import()` (the code highlighter,
 * the zod schemas) are not counted.
 *
 *   npx tsx web/scripts/bundle-size.ts [--page /chat] [--out web/out] [--budget-kb 150]
 *
 * Reads an existing `web/out` (run `npm run build -w web` first), prints a table and writes
 * `.local/web-bundle.json`. Exits 1 when the total is over the budget.
 */

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { numberFlag, parseCommandLine, type UsageFailure, usageFailure } from '@chat/kit/cli';
import { repoRoot } from '@chat/kit/paths';

export const BUDGET_KB = 150;

const webDir = path.join(repoRoot, 'web');

export interface BundleReport {
  page: string;
  outDir: string;
  budgetKb: number;
  chunks: Array<{ file: string; bytes: number; gzipBytes: number }>;
  totalBytes: number;
  totalGzipBytes: number;
  totalGzipKb: number;
  withinBudget: boolean;
  measuredAt: string;
}

function pageHtml(outDir: string, page: string): string {
  const name = page.replace(/^\/+|\/+$/g, '') || 'index';
  for (const candidate of [`${name}.html`, path.join(name, 'index.html')]) {
    const file = path.join(outDir, candidate);
    if (existsSync(file)) return readFileSync(file, 'utf8');
  }
  throw new Error(`no HTML for ${page} in ${outDir}: build the web first (npm run build -w web)`);
}

/** The script URLs a page's HTML loads up front, in order, without duplicates. */
export function firstLoadScripts(html: string): string[] {
  const urls = new Set<string>();
  for (const m of html.matchAll(/<script\b[^>]*>/g)) {
    const tag = m[0];
    // `noModule` scripts (Next's legacy polyfills) are skipped by every browser with ES modules
    if (/\bnomodule\b/i.test(tag)) continue;
    const src = /\bsrc="([^"]+\.js)"/.exec(tag)?.[1];
    if (src) urls.add(src);
  }
  for (const m of html.matchAll(/<link\b[^>]*>/g)) {
    const tag = m[0];
    if (!/\bas="script"/.test(tag)) continue;
    const href = /\bhref="([^"]+\.js)"/.exec(tag)?.[1];
    if (href) urls.add(href);
  }
  return [...urls];
}

export function measure(options: { page?: string; outDir?: string; budgetKb?: number } = {}): BundleReport {
  const page = options.page ?? '/chat';
  const outDir = options.outDir ?? path.join(webDir, 'out');
  const budgetKb = options.budgetKb ?? BUDGET_KB;
  const chunks = firstLoadScripts(pageHtml(outDir, page)).map((url) => {
    const file = path.join(outDir, new URL(url, 'http://x').pathname);
    const data = readFileSync(file);
    return { file: path.relative(outDir, file), bytes: data.length, gzipBytes: gzipSync(data).length };
  });
  const totalBytes = chunks.reduce((s, c) => s + c.bytes, 0);
  const totalGzipBytes = chunks.reduce((s, c) => s + c.gzipBytes, 0);
  const totalGzipKb = Math.round((totalGzipBytes / 1024) * 10) / 10;
  return {
    page,
    outDir: path.relative(repoRoot, outDir),
    budgetKb,
    chunks,
    totalBytes,
    totalGzipBytes,
    totalGzipKb,
    withinBudget: totalGzipKb <= budgetKb,
    measuredAt: new Date().toISOString(),
  };
}

const USAGE = `usage: npx tsx web/scripts/bundle-size.ts [--page /chat] [--out web/out] [--budget-kb ${BUDGET_KB}]
  --page       the page of the static export to measure (default /chat)
  --out        the static export (default web/out)
  --budget-kb  the gzip budget in KB; over it, the exit code is 1 (default ${BUDGET_KB})`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const fail: UsageFailure = usageFailure('bundle-size', USAGE);
  const { values } = parseCommandLine(
    {
      args: process.argv.slice(2),
      options: { 'budget-kb': { type: 'string' }, out: { type: 'string' }, page: { type: 'string' } },
    },
    fail,
  );
  const report = measure({
    page: values.page,
    outDir: values.out ? path.resolve(values.out) : undefined,
    budgetKb: numberFlag(values['budget-kb'], '--budget-kb', fail),
  });
  const kb = (n: number) => `${(n / 1024).toFixed(1).padStart(7)} KB`;
  for (const c of report.chunks) console.log(`${kb(c.gzipBytes)} gz ${kb(c.bytes)} raw  ${c.file}`);
  console.log(
    `first-load JS of ${report.page}: ${report.totalGzipKb} KB gzip (${kb(report.totalBytes).trim()} raw), ` +
      `budget ${report.budgetKb} KB: ${report.withinBudget ? 'ok' : 'OVER'}`,
  );
  const dest = path.join(process.env.CHAT_LOCAL_DIR ?? path.join(repoRoot, '.local'), 'web-bundle.json');
  mkdirSync(path.dirname(dest), { recursive: true });
  writeFileSync(dest, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`written ${path.relative(repoRoot, dest)}`);
  if (!report.withinBudget) process.exitCode = 1;
}
