import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  cacheControlFor,
  HASHED_ASSETS_CACHE_CONTROL,
  HASHED_ASSETS_PREFIX,
  PAGES_CACHE_CONTROL,
} from '@chat/web/cache-control';
import { parseCsp } from '@chat/web/csp';
import { scriptHash, writeCspHashes } from '@chat/web/csp-hashes';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { CLOUDFRONT_CSP_MAX_CHARS, Site } from '../lib/constructs/site.ts';
import { siteDeployments } from './helpers.ts';
import type { Synthesized } from './synth.ts';

// The site's response headers policy from a small static export: the CSP allows exactly the export's inline
// scripts (their hashes, from csp-hashes.json), connects to the WebSocket API's own host, and no deprecated
// header is sent. The whole stack's policy is checked in chat-stack.default-resources.test.ts.
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function exportWith(pages: Record<string, string>, { hashesFile = true } = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'site-csp-'));
  dirs.push(dir);
  for (const [name, html] of Object.entries(pages)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), html);
  }
  if (hashesFile) writeCspHashes(dir);
  return dir;
}

function policyOf(webOutDir: string) {
  const stack = new Stack(new App(), 'SiteCsp', { env: { account: '123456789012', region: 'eu-west-1' } });
  const site = new Site(stack, 'Site', { webOutDir });
  site.publishConfig({
    httpApi: 'https://h1a2b3.execute-api.eu-west-1.amazonaws.com',
    wsApi: 'wss://w9x8y7.execute-api.eu-west-1.amazonaws.com/prod',
  });
  const policies = Template.fromStack(stack).findResources('AWS::CloudFront::ResponseHeadersPolicy');
  const [policy] = Object.values(policies);
  return policy?.Properties?.ResponseHeadersPolicyConfig as {
    SecurityHeadersConfig: Record<string, unknown> & {
      ContentSecurityPolicy: { ContentSecurityPolicy: string };
    };
    CustomHeadersConfig?: { Items: { Header: string; Value: string }[] };
  };
}

describe("CloudFront's CSP for the static export", () => {
  it("allows the export's inline scripts by hash, never 'unsafe-inline', and connects only to the APIs", () => {
    const dir = exportWith({
      'index.html': '<script>alert(1)</script><script src="/_next/static/a.js"></script>',
      'chat.html': '<script>alert(1)</script><script>self.__next_f.push([1,"é"])</script>',
    });
    const config = policyOf(dir);
    const csp = config.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy;
    const d = parseCsp(csp);
    expect(d['script-src']).toEqual([
      "'self'",
      ...['alert(1)', 'self.__next_f.push([1,"é"])'].map(scriptHash).sort(),
    ]);
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    // no inline styles either (web/lib/csp.ts); the browser test checks the app runs under it
    expect(d['style-src']).toEqual(["'self'"]);
    expect(csp).not.toMatch(/style-src[^;]*unsafe-inline/);
    expect(d['connect-src']).toEqual([
      "'self'",
      'https://*.execute-api.eu-west-1.amazonaws.com',
      'wss://w9x8y7.execute-api.eu-west-1.amazonaws.com',
      // the attachments bucket (presigned uploads and downloads; a wildcard: the bucket's CORS names the site)
      'https://*.s3.eu-west-1.amazonaws.com',
    ]);
    expect(csp.length).toBeLessThanOrEqual(CLOUDFRONT_CSP_MAX_CHARS);
  });

  it('hashes the pages when the build wrote no csp-hashes.json, and refuses a CSP over the CloudFront quota', () => {
    const plain = exportWith({ 'index.html': '<script>alert(1)</script>' }, { hashesFile: false });
    expect(
      parseCsp(policyOf(plain).SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy)[
        'script-src'
      ],
    ).toEqual(["'self'", scriptHash('alert(1)')]);
    const pages = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`p${i}.html`, `<script>page(${i})</script>`]),
    );
    expect(() => policyOf(exportWith(pages))).toThrow(/CloudFront takes at most 1783/);
  });

  it('sends no deprecated header (X-XSS-Protection), and the same Permissions-Policy as the local server', () => {
    const config = policyOf(exportWith({ 'index.html': '<p>static</p>' }));
    expect(config.SecurityHeadersConfig).not.toHaveProperty('XSSProtection');
    expect(Object.keys(config.SecurityHeadersConfig).sort()).toEqual([
      'ContentSecurityPolicy',
      'ContentTypeOptions',
      'FrameOptions',
      'ReferrerPolicy',
      'StrictTransportSecurity',
    ]);
    expect(config.CustomHeadersConfig?.Items).toEqual([
      { Header: 'Permissions-Policy', Value: 'camera=(), microphone=(), geolocation=()', Override: true },
    ]);
    // no export: the placeholder page has no script, so no hash is allowed
    const none = policyOf(path.join(tmpdir(), 'no-such-export-dir'));
    expect(
      parseCsp(none.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy)['script-src'],
    ).toEqual(["'self'"]);
  });
});

describe('browser caching of the site, as the local web server does it (web/lib/cache-control.ts)', () => {
  it('hashed files a year and immutable, never pruned; the rest revalidated, pruned, deployed after them', () => {
    const dir = exportWith({
      'index.html': '<script src="/_next/static/chunks/a.js"></script>',
      '_next/static/chunks/a.js': 'console.log(1)',
      'sw.js': 'self.addEventListener("push", () => {})',
    });
    const stack = new Stack(new App(), 'SiteCache', {
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    new Site(stack, 'Site', { webOutDir: dir });
    const { hashed, content } = siteDeployments(Template.fromStack(stack).toJSON() as Synthesized['json']);
    expect(hashed?.props).toMatchObject({
      Include: [`${HASHED_ASSETS_PREFIX}*`],
      Exclude: ['*'],
      Prune: false,
      SystemMetadata: { 'cache-control': HASHED_ASSETS_CACHE_CONTROL },
    });
    expect(content?.props).toMatchObject({
      Exclude: ['config.json', `${HASHED_ASSETS_PREFIX}*`],
      SystemMetadata: { 'cache-control': PAGES_CACHE_CONTROL },
    });
    expect(content?.dependsOn.some((d) => d.startsWith(hashed?.id ?? '?'))).toBe(true);
    // the same answers the local web server gives
    expect(cacheControlFor('/_next/static/chunks/a.js')).toBe(HASHED_ASSETS_CACHE_CONTROL);
    for (const p of ['/', '/chat?c=1', '/sw.js', '/manifest.webmanifest'])
      expect(cacheControlFor(p)).toBe(PAGES_CACHE_CONTROL);
  });
});
