/**
 * Rewrites source map files in place to their first-party mappings (source-maps.ts): the CDK bundling hook of
 * every function runs it on the bundle's map (infra/lib/constructs/chat-function.ts).
 *
 *   node --import tsx kit/src/source-maps-cli.ts <file.map>...
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { firstPartySourceMapText } from './source-maps.ts';

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: source-maps-cli.ts <file.map>...\n');
  process.exit(2);
}
for (const file of files) writeFileSync(file, firstPartySourceMapText(readFileSync(file, 'utf8')));
