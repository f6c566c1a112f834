import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildCsp, cspAllows } from '@chat/web/csp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveStatic, startWebServer, type WebServer } from './web-server.ts';

// a miniature static export: the files `next build` writes for the app's routes
const root = mkdtempSync(path.join(tmpdir(), 'web-out-'));
const files: Record<string, string> = {
  'index.html': '<p>home</p>',
  'chat.html': '<p>chat</p>',
  'signin.html': '<p>signin</p>',
  '404.html': '<p>not found</p>',
  '_next/static/chunks/app.js': 'console.log(1)',
  'docs/index.html': '<p>docs</p>',
};
for (const [name, body] of Object.entries(files)) {
  mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
  writeFileSync(path.join(root, name), body);
}
writeFileSync(path.join(path.dirname(root), 'secret.txt'), 'secret');

describe('web-server', () => {
  let web: WebServer;
  let config = { httpApi: 'http://127.0.0.1:1', wsApi: 'ws://127.0.0.1:2' };
  beforeAll(async () => {
    web = await startWebServer({ port: 0, root, config: () => config });
  });
  afterAll(async () => {
    await web.close();
  });

  it('serves /config.json with the current endpoints, never cached', async () => {
    const res = await fetch(`${web.url}/config.json`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual(config);
    config = { httpApi: 'https://api.example.com', wsApi: 'wss://ws.example.com' };
    expect(await (await fetch(`${web.url}/config.json`)).json()).toEqual(config);
  });

  it('maps the export routes like the CDN does: /chat → chat.html, /x/ → x/index.html, query strings ignored', async () => {
    expect(await (await fetch(`${web.url}/`)).text()).toBe('<p>home</p>');
    expect(await (await fetch(`${web.url}/chat?c=01ABC`)).text()).toBe('<p>chat</p>');
    expect(await (await fetch(`${web.url}/signin`)).text()).toBe('<p>signin</p>');
    expect(await (await fetch(`${web.url}/docs/`)).text()).toBe('<p>docs</p>');
    const html = await fetch(`${web.url}/chat`);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('cache-control')).toBe('no-cache');
    expect(html.headers.get('content-security-policy')).toContain("object-src 'none'");
  });

  it("serves the web's one CSP (as CloudFront does), which admits the https images the renderer keeps", async () => {
    const policy = (await fetch(`${web.url}/chat`)).headers.get('content-security-policy') ?? '';
    expect(policy).toBe(buildCsp({ connectSrc: [config.httpApi, config.wsApi] }));
    expect(cspAllows(policy, 'img-src', 'https://images.example/cat.png', web.url)).toBe(true);
    expect(cspAllows(policy, 'connect-src', config.wsApi, web.url)).toBe(true);
    expect(cspAllows(policy, 'connect-src', 'wss://elsewhere.example', web.url)).toBe(false);
  });

  it('caches hashed assets for a year', async () => {
    const res = await fetch(`${web.url}/_next/static/chunks/app.js`);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('answers 404.html with status 404 for anything else, and never leaves its root', async () => {
    const res = await fetch(`${web.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('<p>not found</p>');
    expect((await fetch(`${web.url}/..%2fsecret.txt`)).status).toBe(404);
    expect(await resolveStatic(root, '/../secret.txt')).toBeNull();
    expect(await resolveStatic(root, '/%2e%2e/secret.txt')).toBeNull();
    expect((await fetch(`${web.url}/chat`, { method: 'POST' })).status).toBe(405);
  });
});
