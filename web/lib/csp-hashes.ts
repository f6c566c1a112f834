/**
 * The hashes of the static export's inline scripts, for the CSP's `script-src` (no `'unsafe-inline'`). Next.js
 * writes a few inline `<script>` tags into every page of `web/out` (the theme bootstrap, the chunk list, the
 * RSC payload); their sha256 hashes are computed after `next build` and written to `web/out/csp-hashes.json`,
 * which both servers read: CloudFront's response headers policy (infra, at synth) and the local web server.
 * Node only (files and node:crypto): the CDK app, the local web server and the build script import it as
 * `@chat/web/csp-hashes`; the browser never does.
 */

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The file the build writes next to the export's pages. */
export const CSP_HASHES_FILE = 'csp-hashes.json';

export interface CspHashes {
  /** `'sha256-…'` sources, sorted, each inline script of every page once. */
  readonly scriptSrc: readonly string[];
  /** The pages they came from (paths relative to the export). */
  readonly pages: readonly string[];
}

/**
 * The bodies of a page's inline scripts: `<script>` elements without `src` whose type runs as script (none,
 * a JavaScript MIME type, or `module`). JSON data blocks (`type="application/json"`) are not scripts to CSP.
 */
export function inlineScripts(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)) {
    const attrs = m[1] ?? '';
    if (/\ssrc\s*=/i.test(` ${attrs}`)) continue;
    const type = /\btype\s*=\s*["']?([^"'\s>]+)/i.exec(attrs)?.[1]?.toLowerCase();
    if (type && type !== 'module' && !/^(text|application)\/(javascript|ecmascript)$/.test(type)) continue;
    out.push(m[2] ?? '');
  }
  return out;
}

/** The CSP hash source of a script body: sha256 of its UTF-8 bytes, exactly as written between the tags. */
export const scriptHash = (body: string): string =>
  `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`;

function htmlFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === '_next' ? [] : htmlFiles(p, base);
    return e.name.endsWith('.html') ? [path.relative(base, p)] : [];
  });
}

/** Hashes of every inline script of every page under `outDir`. */
export function computeCspHashes(outDir: string): CspHashes {
  const pages = htmlFiles(outDir).sort();
  const hashes = new Set<string>();
  for (const page of pages) {
    for (const body of inlineScripts(readFileSync(path.join(outDir, page), 'utf8')))
      hashes.add(scriptHash(body));
  }
  return { scriptSrc: [...hashes].sort(), pages };
}

/** Computes and writes `csp-hashes.json` into the export (run after every `next build`). */
export function writeCspHashes(outDir: string): CspHashes {
  const hashes = computeCspHashes(outDir);
  writeFileSync(path.join(outDir, CSP_HASHES_FILE), `${JSON.stringify(hashes, null, 2)}\n`);
  return hashes;
}

/**
 * The export's hashes: `csp-hashes.json` when the build wrote it, else computed from the pages (an export built
 * by `next build` alone), else none (no export: nothing inline to allow).
 */
export function readCspHashes(outDir: string): CspHashes {
  const file = path.join(outDir, CSP_HASHES_FILE);
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<CspHashes>;
    const ok =
      Array.isArray(parsed.scriptSrc) && parsed.scriptSrc.every((h) => /^'sha256-[A-Za-z0-9+/=]+'$/.test(h));
    if (!ok) throw new Error(`${file} is not a CSP hash list: rebuild the web (npm run build -w web)`);
    return { scriptSrc: parsed.scriptSrc ?? [], pages: parsed.pages ?? [] };
  }
  return existsSync(outDir) ? computeCspHashes(outDir) : { scriptSrc: [], pages: [] };
}
