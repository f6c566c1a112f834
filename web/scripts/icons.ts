/**
 * Renders the PNG icons of the notifications from public/icon.svg with Debian's chromium (the same browser as
 * the e2e tests): `icon-192.png` (the app icon, shown beside the text) and `badge-96.png` (the small monochrome
 * status-bar badge on Android: only its alpha counts, so a white speech bubble on transparent). Not every
 * platform draws an SVG in a notification, hence PNGs. The outputs are committed; run again after editing the icon.
 *
 *   npx tsx web/scripts/icons.ts          (or: npm run icons -w web)
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { ensureChromium, launchArgs } from '../e2e/harness.ts';

const pub = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'public');
const svg = readFileSync(path.join(pub, 'icon.svg'), 'utf8');
// the bubble alone, white: the badge
const badge = svg
  .replace(/<rect[^>]*\/>/, '')
  .replace(/<circle[^>]*\/>/g, '')
  .replace(/fill="#fff"/, 'fill="#fff" transform="translate(-8 -8) scale(1.25)"');

const browser = await chromium.launch({ executablePath: ensureChromium(), args: launchArgs });
try {
  const page = await browser.newPage({ deviceScaleFactor: 1 });
  for (const [file, source, size] of [
    ['icon-192.png', svg, 192],
    ['badge-96.png', badge, 96],
  ] as const) {
    await page.setViewportSize({ width: size, height: size });
    await page.setContent(
      `<html><body style="margin:0;background:transparent"><img style="display:block;width:${size}px;height:${size}px" src="data:image/svg+xml;base64,${Buffer.from(source).toString('base64')}"></body></html>`,
    );
    await page.locator('img').evaluate((img: HTMLImageElement) => img.decode());
    await page.screenshot({ path: path.join(pub, file), omitBackground: true });
    console.log(`written web/public/${file}`);
  }
} finally {
  await browser.close();
}
