/**
 * Bundles the service worker (web/sw/sw.ts and the logic it imports) into web/public/sw.js, a classic script
 * every browser registers. The output is committed (the static export copies public/ as is); the unit test
 * web/lib/push/sw-build.test.ts fails when it is not the bundle of the current sources.
 *
 *   npx tsx web/scripts/build-sw.ts          (or: npm run build:sw -w web)
 */

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const webDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const swEntry = path.join(webDir, 'sw', 'sw.ts');
export const swOutput = path.join(webDir, 'public', 'sw.js');

const BANNER =
  '// Generated from web/sw/sw.ts by web/scripts/build-sw.ts: edit those, then run `npm run build:sw -w web`.';

/** The bundle's text (not written). */
export async function bundleServiceWorker(): Promise<string> {
  const result = await build({
    entryPoints: [swEntry],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    platform: 'browser',
    legalComments: 'none',
    charset: 'utf8',
    banner: { js: BANNER },
    logLevel: 'silent',
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error('esbuild produced no output');
  // the path comments esbuild writes are relative to the working directory: make them stable
  return out.text.replace(/^\s*\/\/ .*\.ts$\n/gm, '');
}

export function committedServiceWorker(): string {
  return readFileSync(swOutput, 'utf8');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(swOutput, await bundleServiceWorker());
  console.log(`written ${path.relative(process.cwd(), swOutput)}`);
}
