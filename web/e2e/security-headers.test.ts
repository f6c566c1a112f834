/**
 * The web app's security headers in a real browser: the static export served by the local web server (as
 * CloudFront serves it) with its Content-Security-Policy. The policy must allow scripts only from the site and
 * by the hashes of the export's inline scripts (no 'unsafe-inline'), stylesheets only from the site (no
 * 'unsafe-inline' either), and connect only to this deployment's API hosts. Two people then use the app under
 * it (sign up, a DM, Markdown with highlighted code, an aligned table, a link and a mention, the message menu,
 * reactions, a reply, an edit, the dialogs, the user menu's dark theme, an image upload) without a single CSP
 * violation in any page either of them loaded. An injected script, a request to another host, an injected
 * `<style>` element and injected `style` attributes are refused: the violation listener does see violations,
 * and the refused styles do not apply (styles set through the CSSOM do).
 */

import path from 'node:path';
import { repoRoot } from '@chat/kit/paths';
import { parseCsp } from '@chat/web/csp';
import { readCspHashes } from '@chat/web/csp-hashes';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Actions, gradientPng } from './actions.ts';
import { type Stack, startStack, uniqueName } from './harness.ts';
import { AuthPage, type ChatPage, TIMEOUT } from './pages.ts';

declare global {
  interface Window {
    __cspViolations?: string[];
    __reportCspViolation?: (violation: string) => Promise<void>;
    __injected?: number;
  }
}

const PASSWORD = 'correct horse battery';
const poll = { timeout: TIMEOUT, interval: 100 };

let stack: Stack;
let ctx: BrowserContext;
let page: Page;
let bobCtx: BrowserContext;
let bobPage: Page;
let alice: ChatPage;
let bob: ChatPage;
const aliceName = uniqueName('csp');
const bobName = uniqueName('csppeer');
/** Every violation reported in any document either person loaded (the in-page list starts over per document). */
const seen: string[] = [];
/** The console's CSP messages, all pages. */
const consoleCsp: string[] = [];

/** Before any page script of every document of `context`: record each violation the browser reports. */
async function watchCsp(context: BrowserContext, who: string): Promise<void> {
  await context.exposeBinding('__reportCspViolation', (_source, violation: string) => {
    seen.push(`${who}: ${violation}`);
  });
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      const violation = `${e.effectiveDirective} ${e.blockedURI || 'inline'}`;
      window.__cspViolations?.push(violation);
      void window.__reportCspViolation?.(`${violation} at ${location.pathname}`);
    });
  });
}

function watchConsole(p: Page, who: string): void {
  p.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) consoleCsp.push(`${who}: ${m.text()}`);
  });
}

beforeAll(async () => {
  stack = await startStack();
  ctx = await stack.newContext();
  await watchCsp(ctx, 'csp tester');
  page = await ctx.newPage();
  watchConsole(page, 'csp tester');
}, 600_000);

afterAll(async () => {
  await ctx?.close();
  await bobCtx?.close();
  await stack?.stop();
});

const violations = (p: Page = page) => p.evaluate(() => window.__cspViolations ?? []);

describe('the web server sends a strict CSP, and the app runs under it', () => {
  it("allows scripts only from the site and by the export's inline script hashes; no deprecated headers", async () => {
    const res = await page.goto('/signin');
    const headers = res?.headers() ?? {};
    const csp = parseCsp(headers['content-security-policy'] ?? '');
    const hashes = readCspHashes(path.join(repoRoot, 'web', 'out')).scriptSrc;
    expect(hashes.length).toBeGreaterThan(0);
    expect(csp['script-src']).toEqual(["'self'", ...hashes]);
    expect(csp['script-src']).not.toContain("'unsafe-inline'");
    expect(csp['script-src']).not.toContain("'unsafe-eval'");
    // no inline styles either: neither <style> elements nor style attributes (styles set through the CSSOM are
    // not governed by CSP); no style-src-elem or style-src-attr that would loosen it
    expect(csp['style-src']).toEqual(["'self'"]);
    expect(csp).not.toHaveProperty('style-src-elem');
    expect(csp).not.toHaveProperty('style-src-attr');
    const origin = (u: string) => `${new URL(u).protocol}//${new URL(u).host}`;
    expect(csp['connect-src']).toEqual([
      "'self'",
      origin(stack.runtime.httpUrl),
      origin(stack.runtime.wsUrl),
      // the attachments bucket: uploads PUT straight to the local S3 server (the harness's S3_ENDPOINT default)
      origin(process.env.S3_ENDPOINT || 'http://127.0.0.1:9000'),
    ]);
    expect(csp['object-src']).toEqual(["'none'"]);
    expect(csp['frame-ancestors']).toEqual(["'none'"]);
    for (const deprecated of [
      'x-xss-protection',
      'expect-ct',
      'public-key-pins',
      'feature-policy',
      'pragma',
    ]) {
      expect(headers).not.toHaveProperty(deprecated);
    }
    expect(headers['x-content-type-options']).toBe('nosniff');
  });

  it('shows the landing, sign-in and not-found pages without a CSP violation', async () => {
    await page.goto('/');
    await page.waitForLoadState('load');
    await new AuthPage(page).gotoSignIn();
    const res = await page.goto('/no-such-page');
    expect(res?.status()).toBe(404);
    await page.waitForLoadState('load');
    expect(seen).toEqual([]);
    expect(consoleCsp).toEqual([]);
  });

  it('signs up, reaches the chat and connects without a CSP violation', async () => {
    alice = await new AuthPage(page).signUp(aliceName, PASSWORD, 'Csp Tester');
    await alice.waitConnected();
    await page.getByRole('button', { name: 'New conversation' }).first().waitFor({ timeout: TIMEOUT });
    expect(await violations()).toEqual([]);
    expect(seen).toEqual([]);
    expect(consoleCsp).toEqual([]);
  });

  // Markdown (code, an aligned table, a link, a mention), the message menu, reactions, a reply, an edit, the
  // dialogs, the user menu's dark theme, an image upload
  it('a second person, a DM and the conversation UI run without a CSP violation', {
    timeout: 240_000,
  }, async () => {
    // bob: another context (dark, like a system in dark mode), watched the same way
    bobCtx = await stack.newContext({ dark: true });
    await watchCsp(bobCtx, 'peer');
    bobPage = await bobCtx.newPage();
    watchConsole(bobPage, 'peer');
    bob = await new AuthPage(bobPage).signUp(bobName, PASSWORD, 'Csp Peer');
    const a = new Actions(alice);
    const b = new Actions(bob);

    await alice.startDm(bobName, 'Csp Peer');
    // fenced code in a language: the highlighting worker and its grammar chunk load
    await alice.send(
      [
        'The total of the items:',
        '',
        '```ts',
        'export function total(items: number[]): number {',
        '  return items.reduce((sum, n) => sum + n, 0);',
        '}',
        '```',
      ].join('\n'),
    );
    // a GFM table with column alignment (react-markdown sets `style={{ textAlign }}` on the cells), a link
    // and a mention of bob; the multi-line text makes the composer grow (it sets its height through the CSSOM)
    const table = [
      `Prices for @${bobName}, see https://example.com/prices`,
      '',
      '| Item | Size | Price |',
      '| :--- | :---: | ---: |',
      '| Soup | large | 4.50 |',
      '| Bread | small | 1.20 |',
    ].join('\n');
    await alice.composer().fill(table);
    expect(await alice.composer().evaluate((el: HTMLElement) => el.style.height)).toMatch(/^\d+(\.\d+)?px$/);
    await alice.composer().press('Enter');
    await alice.send('Meet at the station at six');

    await bob.row('Csp Tester').waitFor({ timeout: TIMEOUT });
    await bob.open('Csp Tester');
    for (const [who, chat] of [
      ['me', alice],
      ['peer', bob],
    ] as const) {
      // highlighted by the worker
      const code = chat.message('The total of the items').locator('code.hljs');
      await expect
        .poll(() => code.locator('.hljs-keyword').count(), { ...poll, message: who })
        .toBeGreaterThan(0);
      // the alignment applies: React's style props go through the CSSOM, which CSP does not restrict
      const cells = chat.message('Prices for').locator('th');
      await expect.poll(() => cells.count(), { ...poll, message: who }).toBe(3);
      expect(
        await cells.evaluateAll((ths) =>
          ths.map((th) => `${(th as HTMLElement).style.textAlign}:${getComputedStyle(th).textAlign}`),
        ),
      ).toEqual(['left:left', 'center:center', 'right:right']);
      const link = chat.message('Prices for').getByRole('link', { name: 'https://example.com/prices' });
      expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
    }
    // the mention of bob is marked on his side
    const mark = bob.message('Prices for').locator('mark.mention');
    await expect.poll(() => mark.count(), poll).toBe(1);
    expect(await mark.textContent()).toBe(`@${bobName}`);

    // the message menu: a reaction from the quick row, another from the picker
    await b.choose('Prices for', 'React with 👍');
    await expect.poll(() => a.chipState('Prices for', '👍'), poll).toBe('1:false');
    await b.choose('Meet at the station', /More reactions/);
    await b.menu().getByRole('menuitem', { name: 'React with 🔥' }).click();
    await expect.poll(() => a.chipState('Meet at the station', '🔥'), poll).toBe('1:false');

    // a reply, quoted on both sides; a click on the quote goes to the original
    await b.choose('The total of the items', 'Reply');
    await bobPage.getByTestId('replying-to').waitFor({ timeout: TIMEOUT });
    await bob.composer().fill('Thanks, looks right');
    await bob.composer().press('Enter');
    const quote = a.message('Thanks, looks right').getByTestId('reply-quote');
    await quote.waitFor({ timeout: TIMEOUT });
    await quote.click();

    // an edit
    await a.choose('Meet at the station', 'Edit');
    await a.editor().fill('Meet at the station at seven');
    await page.keyboard.press('Enter');
    await b.message('Meet at the station at seven').getByTestId('edited').waitFor({ timeout: TIMEOUT });

    // the new-conversation dialog, both tabs, closed again
    await page.getByRole('button', { name: 'New conversation' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New conversation' });
    await dialog.getByLabel('Find people').fill(bobName);
    await dialog.getByRole('button', { name: new RegExp(`@${bobName}`) }).waitFor({ timeout: TIMEOUT });
    await dialog.getByRole('tab', { name: 'Group' }).click();
    await dialog.getByLabel('Title').fill('Not today');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: TIMEOUT });

    // the user menu: the dark theme (a class and color-scheme through the CSSOM), then closed
    const menuButton = page.getByRole('button', { name: 'Account and settings' });
    await menuButton.click();
    await page.getByRole('button', { name: /^dark$/i }).click();
    await page.waitForFunction(() => document.documentElement.classList.contains('dark'));
    expect(await page.evaluate(() => document.documentElement.style.colorScheme)).toBe('dark');
    await page.keyboard.press('Escape');
    await expect.poll(() => menuButton.getAttribute('aria-expanded'), poll).toBe('false');
    // a fresh load in dark: the theme script (an inline script, by hash) sets it before the first paint
    await page.reload();
    await alice.waitReady();
    expect(
      await page.evaluate(
        () =>
          `${document.documentElement.classList.contains('dark')}:${document.documentElement.style.colorScheme}`,
      ),
    ).toBe('true:dark');
    await alice.open('Csp Peer');
    await alice.message('Thanks, looks right').waitFor({ timeout: TIMEOUT });

    // an image upload (the progress bar's width is a style prop), shown to bob as a thumbnail from S3
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Attach files' }).click();
    await (await chooser).setFiles({
      name: 'chart.png',
      mimeType: 'image/png',
      buffer: gradientPng(320, 200, [40, 120, 255], [160, 40, 80]),
    });
    const upload = a.uploads().filter({ hasText: 'chart.png' });
    await expect.poll(() => upload.getAttribute('data-state'), poll).toBe('done');
    const bar = upload.getByRole('progressbar').locator('div');
    expect(await bar.evaluate((el: HTMLElement) => el.style.width)).toBe('100%');
    expect(await bar.evaluate((el) => el.getBoundingClientRect().width)).toBeGreaterThan(0);
    await alice.composer().fill('The chart');
    await alice.composer().press('Enter');
    await a.uploads().first().waitFor({ state: 'detached', timeout: TIMEOUT });
    const thumb = b.message('The chart').getByTestId('attachment-image').locator('img');
    await thumb.waitFor({ state: 'attached', timeout: TIMEOUT });
    await expect
      .poll(() => thumb.evaluate((img: HTMLImageElement) => `${img.complete}:${img.naturalWidth}`), poll)
      .toBe('true:320');

    expect(seen).toEqual([]);
    expect(consoleCsp).toEqual([]);
    expect(await violations(page)).toEqual([]);
    expect(await violations(bobPage)).toEqual([]);
  });

  it('refuses an injected inline script and a request to another host (the listener sees violations)', async () => {
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__injected = 1';
      document.body.append(s);
    });
    const fetched = await page.evaluate(() =>
      fetch('https://elsewhere.example/steal').then(
        () => 'sent',
        () => 'refused',
      ),
    );
    expect(fetched).toBe('refused');
    expect(await page.evaluate(() => window.__injected)).toBeUndefined();
    await expect
      .poll(violations, { timeout: TIMEOUT })
      .toEqual(
        expect.arrayContaining([expect.stringMatching(/^script-src/), expect.stringMatching(/^connect-src/)]),
      );
  });

  it('refuses an injected <style> element and injected style attributes; the CSSOM still applies', async () => {
    const before = await violations();
    const consoleBefore = consoleCsp.length;
    // a probe element and its computed style before anything is injected
    await page.evaluate(() => {
      const probe = document.createElement('div');
      probe.id = 'csp-style-probe';
      probe.textContent = 'probe';
      document.body.append(probe);
    });
    const computed = () =>
      page.evaluate(() => {
        const s = getComputedStyle(document.getElementById('csp-style-probe') as HTMLElement);
        return { color: s.color, background: s.backgroundColor, outline: s.outlineStyle };
      });
    const initial = await computed();
    await page.evaluate(() => {
      // a <style> element
      const style = document.createElement('style');
      style.textContent = '#csp-style-probe { color: rgb(1, 2, 3) !important; outline: 3px dashed red }';
      document.head.append(style);
      // a style attribute set as an attribute
      document.getElementById('csp-style-probe')?.setAttribute('style', 'background-color: rgb(4, 5, 6)');
      // a style attribute in parsed markup
      const holder = document.createElement('div');
      holder.innerHTML = '<span id="csp-style-markup" style="color: rgb(7, 8, 9)">markup</span>';
      document.body.append(holder);
    });
    await expect
      .poll(async () => (await violations()).slice(before.length), { timeout: TIMEOUT })
      .toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^style-src-elem inline/),
          expect.stringMatching(/^style-src-attr inline/),
        ]),
      );
    // none of them applies
    expect(await computed()).toEqual(initial);
    expect(
      await page.evaluate(() => {
        const span = document.getElementById('csp-style-markup') as HTMLElement;
        return `${span.style.color}|${getComputedStyle(span).color === 'rgb(7, 8, 9)'}`;
      }),
    ).toBe('|false');
    // the attribute refused twice (setAttribute and markup), the element once
    const added = (await violations()).slice(before.length);
    expect(added.filter((v) => v.startsWith('style-src-attr'))).toHaveLength(2);
    expect(added.filter((v) => v.startsWith('style-src-elem'))).toHaveLength(1);
    expect(seen).toEqual(
      expect.arrayContaining([expect.stringMatching(/^csp tester: style-src-elem inline/)]),
    );
    // and the console says so too (the console check above is not vacuous)
    expect(
      consoleCsp.slice(consoleBefore).filter((m) => /Applying inline style violates/.test(m)),
    ).toHaveLength(3);
    // the CSSOM is not governed by CSP: what React's style props and the theme script rely on
    await page.evaluate(() => {
      (document.getElementById('csp-style-probe') as HTMLElement).style.backgroundColor = 'rgb(4, 5, 6)';
    });
    expect((await computed()).background).toBe('rgb(4, 5, 6)');
  });
});
