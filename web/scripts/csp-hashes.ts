/**
 * Writes `web/out/csp-hashes.json`: the sha256 hashes of the static export's inline scripts, which the CSP's
 * `script-src` allows instead of `'unsafe-inline'` (web/lib/csp-hashes.ts). Part of `npm run build -w web`,
 * after `next build`; the local web server's `buildWebIfStale` does the same.
 *
 *   npx tsx web/scripts/csp-hashes.ts [--out web/out]
 */

import path from 'node:path';
import { parseCommandLine, usageFailure } from '@chat/kit/cli';
import { repoRoot } from '@chat/kit/paths';
import { writeCspHashes } from '../lib/csp-hashes.ts';

const USAGE = `usage: npx tsx web/scripts/csp-hashes.ts [--out web/out]
  --out  the static export whose inline scripts to hash (default web/out)`;

const { values } = parseCommandLine(
  { args: process.argv.slice(2), options: { out: { type: 'string' } } },
  usageFailure('csp-hashes', USAGE),
);
const out = path.resolve(values.out ?? path.join(repoRoot, 'web', 'out'));
const { scriptSrc, pages } = writeCspHashes(out);
console.log(`csp-hashes.json: ${scriptSrc.length} inline script hashes from ${pages.length} pages in ${out}`);
