/**
 * Checks shared by every browser scenario file: axe (serious and critical violations) and screenshots of a page at
 * rest.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot } from '@chat/kit/paths';
import type { Page } from 'playwright-core';
import { TIMEOUT } from './pages.ts';

const require = createRequire(import.meta.url);
const axeSource: string = require('axe-core').source;
/**
 * Screenshots go to the ignored `.local/screenshots/` (CHAT_LOCAL_DIR) on every run, and to the tracked
 * `docs/screenshots/` (the README's pictures) only with UPDATE_SCREENSHOTS=1, so a run leaves `git status` clean.
 */
const shots =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? path.join(repoRoot, 'docs', 'screenshots')
    : path.join(process.env.CHAT_LOCAL_DIR ?? path.join(repoRoot, '.local'), 'screenshots');

export async function axeViolations(page: Page): Promise<string[]> {
  // over CDP, like DevTools: the page's CSP admits no inline script but the export's own (by hash)
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Runtime.evaluate', { expression: axeSource });
  await cdp.detach();
  const results = (await page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: axe is injected into the page at run time
    const axe = (window as any).axe;
    return axe.run(document, { resultTypes: ['violations'] });
  })) as {
    violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown }> }>;
  };
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) => `${v.impact} ${v.id}: ${v.help} at ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`,
    );
}

/**
 * A screenshot once the page is at rest (fonts and images loaded, no finite animation running, the layout the
 * same over two frames). `keepFocus`: leave the focus and pointer where they are (a menu or editor stays open).
 */
export async function screenshot(page: Page, name: string, options: { keepFocus?: boolean } = {}) {
  mkdirSync(shots, { recursive: true });
  if (!options.keepFocus) {
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.mouse.move((page.viewportSize()?.width ?? 1) - 1, 1);
  }
  await page.waitForFunction(
    () => {
      const layout = () =>
        Array.from(document.querySelectorAll('body *'), (el) => {
          const r = el.getBoundingClientRect();
          return `${r.x},${r.y},${r.width},${r.height}`;
        }).join(';');
      const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
      const before = layout();
      return frame()
        .then(frame)
        .then(
          () =>
            document.fonts.status === 'loaded' &&
            Array.from(document.images).every((img) => img.complete) &&
            !document
              .getAnimations()
              .some(
                (a) =>
                  a.playState === 'running' &&
                  Number.isFinite(Number(a.effect?.getComputedTiming().endTime ?? Number.POSITIVE_INFINITY)),
              ) &&
            layout() === before,
        );
    },
    undefined,
    { timeout: TIMEOUT, polling: 50 },
  );
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
}

/**
 * Visible text set below `minPx` (Lighthouse's legibility audit on a phone asks for 12 px): one line per font size
 * and parent, with the start of its text. Empty when every text is legible.
 */
export function smallText(page: Page, minPx = 12): Promise<string[]> {
  return page.evaluate((min) => {
    const out = new Set<string>();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.textContent?.trim();
      const el = n.parentElement;
      if (!text || !el || el.getClientRects().length === 0) continue;
      const px = Number.parseFloat(getComputedStyle(el).fontSize);
      if (px < min) out.add(`${px}px <${el.tagName.toLowerCase()}>: ${text.slice(0, 30)}`);
    }
    return [...out];
  }, minPx);
}
