import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { buildCsp, cspAllows } from '@chat/web/csp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  negotiateEncoding,
  resolveStatic,
  startWebServer,
  type WebConfig,
  type WebServer,
} from './web-server.ts';

// a miniature static export: the files `next build` writes for the app's routes
const root = mkdtempSync(path.join(tmpdir(), 'web-out-'));
const files: Record<string, string> = {
  'index.html': '<p>home</p>',
  'chat.html': '<p>chat</p>',
  'signin.html': '<p>signin</p>',
  '404.html': '<p>not found</p>',
  '_next/static/chunks/app.js': 'console.log(1)',
  'docs/index.html': '<p>docs</p>',
  // above CloudFront's 1,000-byte floor for compression
  '_next/static/chunks/big.js': Array.from(
    { length: 400 },
    (_, i) => `export const v${i} = ${i * 7};\n`,
  ).join(''),
  'big.png': 'PNG'.repeat(1000),
};
for (const [name, body] of Object.entries(files)) {
  mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
  writeFileSync(path.join(root, name), body);
}
writeFileSync(path.join(path.dirname(root), 'secret.txt'), 'secret');

/** A GET (or HEAD) that shows the bytes as sent: fetch would ask for gzip itself and decode it. */
function raw(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web-server', () => {
  let web: WebServer;
  let config: WebConfig = { httpApi: 'http://127.0.0.1:1', wsApi: 'ws://127.0.0.1:2' };
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
    // With Web Push (issue 15): the VAPID public key too.
    const withPush = { ...config, vapidPublicKey: 'BPub_key-123' };
    config = withPush;
    expect(await (await fetch(`${web.url}/config.json`)).json()).toEqual(withPush);
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
    const s3 = process.env.S3_ENDPOINT ? [new URL(process.env.S3_ENDPOINT).origin] : [];
    expect(policy).toBe(buildCsp({ connectSrc: [config.httpApi, config.wsApi], attachmentsSrc: s3 }));
    // Presigned attachment uploads and downloads go straight to the local S3 server.
    for (const origin of s3)
      expect(cspAllows(policy, 'connect-src', `${origin}/chat-attachments/pending/x`, web.url)).toBe(true);
    expect(s3.length).toBe(1);
    expect(cspAllows(policy, 'img-src', 'https://images.example/cat.png', web.url)).toBe(true);
    expect(cspAllows(policy, 'connect-src', config.wsApi, web.url)).toBe(true);
    expect(cspAllows(policy, 'connect-src', 'wss://elsewhere.example', web.url)).toBe(false);
    // no inline scripts or styles but the export's scripts by hash (web/lib/csp.ts)
    expect(policy).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(policy).toMatch(/(^|; )style-src 'self'(;|$)/);
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

  it('compresses text as CloudFront does: br or gzip when accepted, identity otherwise, Vary: Accept-Encoding', async () => {
    const url = `${web.url}/_next/static/chunks/big.js`;
    const source = readFileSync(path.join(root, '_next/static/chunks/big.js'));

    const gz = await raw(url, { 'accept-encoding': 'gzip, deflate' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toBe('Accept-Encoding');
    expect(gz.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(Number(gz.headers['content-length'])).toBe(gz.body.length);
    expect(gz.body.length).toBeLessThan(source.length / 2);
    expect(gunzipSync(gz.body).equals(source)).toBe(true);

    const br = await raw(url, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.body.length).toBeLessThan(source.length / 2);
    expect(brotliDecompressSync(br.body).equals(source)).toBe(true);
    const head = await raw(url, { 'accept-encoding': 'br' }, 'HEAD');
    expect(head.headers['content-length']).toBe(String(br.body.length));
    expect(head.body.length).toBe(0);

    for (const accept of [undefined, 'identity', 'br;q=0, gzip;q=0']) {
      const plain = await raw(url, accept ? { 'accept-encoding': accept } : {});
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers.vary).toBe('Accept-Encoding');
      expect(plain.body.equals(source)).toBe(true);
    }
    // small files (under 1,000 bytes) and binary types are sent as they are
    const small = await raw(`${web.url}/chat`, { 'accept-encoding': 'gzip, br' });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.body.toString()).toBe('<p>chat</p>');
    const png = await raw(`${web.url}/big.png`, { 'accept-encoding': 'gzip, br' });
    expect(png.headers['content-encoding']).toBeUndefined();
    expect(png.headers.vary).toBeUndefined();
    expect(png.body.length).toBe(3000);
  });

  it('keeps compressed bodies by path and mtime: a rebuilt file is compressed again', async () => {
    const file = path.join(root, '_next/static/chunks/big.js');
    const url = `${web.url}/_next/static/chunks/big.js`;
    const before = await raw(url, { 'accept-encoding': 'gzip' });
    const next = `${readFileSync(file, 'utf8')}export const rebuilt = true;\n`;
    writeFileSync(file, next);
    const later = new Date(Date.now() + 5_000);
    utimesSync(file, later, later);
    const after = await raw(url, { 'accept-encoding': 'gzip' });
    expect(gunzipSync(after.body).toString()).toBe(next);
    expect(after.body.equals(before.body)).toBe(false);
  });

  it('negotiates br before gzip, honours q=0 and *', () => {
    expect(negotiateEncoding(undefined)).toBeNull();
    expect(negotiateEncoding('gzip, deflate, br, zstd')).toBe('br');
    expect(negotiateEncoding('gzip')).toBe('gzip');
    expect(negotiateEncoding('br;q=0, gzip;q=0.5')).toBe('gzip');
    expect(negotiateEncoding('*')).toBe('br');
    expect(negotiateEncoding('*;q=0')).toBeNull();
    expect(negotiateEncoding('deflate')).toBeNull();
  });
});
