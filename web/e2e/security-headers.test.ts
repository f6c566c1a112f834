/**
 * The web app's security headers in a real browser: the static export served by the local web server (as
 * CloudFront serves it) with its Content-Security-Policy. The page must run under the policy (sign up, reach
 * the chat, connect the WebSocket) without a single CSP violation, the policy must allow scripts only from the
 * site and by the hashes of the export's inline scripts (no 'unsafe-inline'), and connect only to this
 * deployment's API hosts. A script injected into the page and a request to another host are refused: the
 * violation listener does see violations.
 */

import path from 'node:path';
import { repoRoot } from '@chat/kit/paths';
import { parseCsp } from '@chat/web/csp';
import { readCspHashes } from '@chat/web/csp-hashes';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack, uniqueName } from './harness.ts';
import { AuthPage, TIMEOUT } from './pages.ts';

declare global {
  interface Window {
    __cspViolations?: string[];
    __injected?: number;
  }
}

let stack: Stack;
let ctx: BrowserContext;
let page: Page;
const consoleCsp: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  ctx = await stack.newContext();
  // before any page script: record every violation the browser reports
  await ctx.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations?.push(`${e.violatedDirective} ${e.blockedURI || 'inline'}`);
    });
  });
  page = await ctx.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) consoleCsp.push(m.text());
  });
}, 600_000);

afterAll(async () => {
  await ctx?.close();
  await stack?.stop();
});

const violations = () => page.evaluate(() => window.__cspViolations ?? []);

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

  it('signs up, reaches the chat and connects without a CSP violation', async () => {
    const chat = await new AuthPage(page).signUp(uniqueName('csp'), 'correct horse battery', 'Csp Tester');
    await chat.waitConnected();
    await page.getByRole('button', { name: 'New conversation' }).first().waitFor({ timeout: TIMEOUT });
    expect(await violations()).toEqual([]);
    expect(consoleCsp).toEqual([]);
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
});
