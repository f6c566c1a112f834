/**
 * A small static server for the web client's export (web/out): what S3 + CloudFront do on AWS, locally.
 *
 * - `/config.json` answers `{ httpApi, wsApi, vapidPublicKey }` (the endpoints the browser uses and the Web Push
 *   application server key), never cached.
 * - Routes of the static export resolve like CloudFront's URL rewrite: `/chat` → `chat.html`,
 *   `/x/` → `x/index.html`; unknown paths get `404.html` with status 404.
 * - Hashed assets under `/_next/static/` are cached for a year; HTML is revalidated on every load.
 * - Text responses are compressed as CloudFront compresses them (`compress: true` in infra's Site): br or gzip
 *   when the browser accepts it, for compressible types from 1,000 bytes to 10 MB, with
 *   `Vary: Accept-Encoding`; each file's compressed bodies are kept in memory, keyed by path and mtime.
 *
 * Programmatic: `buildWebIfStale()`, then `startWebServer({ port: 0, config })`; CLI: `tsx local/web-server.ts
 * [--build] [--port 3000] [--http http://localhost:8081] [--ws ws://localhost:8080] [--root web/out]`.
 */

import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, type Stats, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, gzip, constants as zlibConstants } from 'node:zlib';
import { ensureLocalVapidKeys } from '@chat/functions/operations';
import { numberFlag, parseCommandLine, type UsageFailure, usageFailure } from '@chat/kit/cli';
import { repoRoot } from '@chat/kit/paths';
import { cacheControlFor } from '@chat/web/cache-control';
import { buildCsp } from '@chat/web/csp';
import { CSP_HASHES_FILE, readCspHashes, writeCspHashes } from '@chat/web/csp-hashes';

export interface WebConfig {
  httpApi: string;
  wsApi: string;
  /**
   * Origin of the attachments bucket (presigned uploads and downloads go straight to it): added to the CSP's
   * connect-src and img-src (thumbnails), not to /config.json. Default: the origin of S3_ENDPOINT when set (the
   * local S3 server).
   */
  attachmentsOrigin?: string;
  /** (issue 15) The Web Push VAPID public key (base64url); omitted from config.json when unset. */
  vapidPublicKey?: string;
}

const s3Origin = (): string[] => {
  try {
    return process.env.S3_ENDPOINT ? [new URL(process.env.S3_ENDPOINT).origin] : [];
  } catch {
    return [];
  }
};

export interface WebServerOptions {
  /** 0 = an ephemeral port. */
  port?: number;
  host?: string;
  /** The static export; default web/out. */
  root?: string;
  /** The endpoints; a function when they are known only later (read on every /config.json request). */
  config: WebConfig | (() => WebConfig);
}

export interface WebServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const defaultWebRoot = path.join(repoRoot, 'web', 'out');

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const name of readdirSync(p)) {
    if (['node_modules', 'out', '.next', 'e2e'].includes(name) || name.endsWith('.test.ts')) continue;
    max = Math.max(max, newestMtime(path.join(p, name)));
  }
  return max;
}

/**
 * Builds the web client's static export (web/out) unless it is newer than every source it is made from (the
 * app and the wire contracts). Returns the build time in ms, or 0 when it was up to date. `next build` takes
 * about a minute on two cores.
 */
export function buildWebIfStale(options: { force?: boolean } = {}): number {
  const web = path.join(repoRoot, 'web');
  const sources = Math.max(
    ...[
      'app',
      'components',
      'hooks',
      'lib',
      'public',
      'next.config.ts',
      'package.json',
      'postcss.config.mjs',
    ].map((p) => newestMtime(path.join(web, p))),
    newestMtime(path.join(repoRoot, 'functions', 'src', 'contracts')),
  );
  const index = path.join(web, 'out', 'index.html');
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  if (!options.force && built > sources) return 0;
  const t0 = Date.now();
  const r = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'node_modules', 'next', 'dist', 'bin', 'next'), 'build'],
    {
      cwd: web,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (r.status !== 0) throw new Error(`next build failed:\n${r.stdout}\n${r.stderr}`);
  // what `npm run build -w web` does after next build: the inline scripts' hashes for the CSP
  writeCspHashes(path.join(web, 'out'));
  return Date.now() - t0;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** What CloudFront compresses: text, JSON, JavaScript, SVG, XML, manifests (not images, fonts, archives). */
export function isCompressible(contentType: string): boolean {
  return /^(?:text\/|application\/(?:json|javascript|xml|manifest\+json)|image\/svg\+xml)/i.test(contentType);
}

/** CloudFront compresses objects from 1,000 bytes to 10,000,000 bytes. */
const COMPRESS_MIN_BYTES = 1_000;
const COMPRESS_MAX_BYTES = 10_000_000;

export type ContentEncoding = 'br' | 'gzip';

/** The encoding for an `Accept-Encoding` header: br, else gzip, when accepted (q > 0); null: identity. */
export function negotiateEncoding(acceptEncoding: string | undefined): ContentEncoding | null {
  if (!acceptEncoding) return null;
  const q = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [coding = '', ...params] = part.split(';').map((p) => p.trim());
    const qParam = params.find((p) => p.startsWith('q='));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    if (coding) q.set(coding, Number.isFinite(value) ? value : 0);
  }
  const accepts = (coding: string) => (q.get(coding) ?? q.get('*') ?? 0) > 0;
  if (accepts('br')) return 'br';
  if (accepts('gzip')) return 'gzip';
  return null;
}

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

function compress(raw: Buffer, encoding: ContentEncoding): Promise<Buffer> {
  return encoding === 'br'
    ? brotli(raw, {
        params: {
          [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT,
          // 11 (the default) takes seconds for the app's larger chunks on a busy machine, for ≈ 3 % less
          [zlibConstants.BROTLI_PARAM_QUALITY]: 9,
          [zlibConstants.BROTLI_PARAM_SIZE_HINT]: raw.length,
        },
      })
    : gzipAsync(raw, { level: 9 });
}

/** `scheme://host[:port]` of an endpoint URL: the CSP source that admits it (any path). */
function originOf(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}`;
}

function securityHeaders(config: WebConfig | null, scriptHashes: readonly string[]): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'strict-origin-when-cross-origin',
    'x-frame-options': 'DENY',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
    // The one policy CloudFront serves too (@chat/web/csp), with this deployment's API origins.
    'content-security-policy': buildCsp({
      connectSrc: config
        ? [originOf(config.httpApi), originOf(config.wsApi)]
        : ['http:', 'https:', 'ws:', 'wss:'],
      scriptHashes,
      attachmentsSrc: config ? (config.attachmentsOrigin ? [config.attachmentsOrigin] : s3Origin()) : [],
    }),
  };
}

function safeConfig(get: () => WebConfig): WebConfig | null {
  try {
    return get();
  } catch {
    return null;
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** The file a URL path maps to inside root, or null; never a path outside root. */
export async function resolveStatic(root: string, urlPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const base = path.resolve(root);
  const target = path.resolve(base, `.${path.posix.normalize(`/${decoded}`)}`);
  if (target !== base && !target.startsWith(base + path.sep)) return null;
  const candidates = decoded.endsWith('/')
    ? [path.join(target, 'index.html')]
    : [target, `${target}.html`, path.join(target, 'index.html')];
  for (const c of candidates) if (await isFile(c)) return c;
  return null;
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const root = options.root ?? defaultWebRoot;
  const host = options.host ?? '127.0.0.1';
  const getConfig = typeof options.config === 'function' ? options.config : () => options.config as WebConfig;
  // The inline scripts' hashes (csp-hashes.json), read again when the export is rebuilt under a running server.
  let hashes: { key: number; scriptSrc: readonly string[] } | null = null;
  const scriptHashes = (): readonly string[] => {
    const marker = [CSP_HASHES_FILE, 'index.html'].map((f) => path.join(root, f)).find((f) => existsSync(f));
    const key = marker ? statSync(marker).mtimeMs : 0;
    if (hashes?.key !== key) hashes = { key, scriptSrc: readCspHashes(root).scriptSrc };
    return hashes.scriptSrc;
  };
  const headersFor = () =>
    securityHeaders(
      typeof options.config === 'function' ? safeConfig(getConfig) : getConfig(),
      scriptHashes(),
    );
  if (!(await isFile(path.join(root, 'index.html')))) {
    throw new Error(`No static export at ${root}: run \`npm run build -w web\` first.`);
  }

  // file → its compressed bodies while its mtime and size stay the same (a rebuilt export replaces them)
  const compressed = new Map<
    string,
    { mtimeMs: number; size: number; bodies: Partial<Record<ContentEncoding, Promise<Buffer>>> }
  >();
  const compressedBody = (file: string, info: Stats, encoding: ContentEncoding): Promise<Buffer> => {
    let entry = compressed.get(file);
    if (!entry || entry.mtimeMs !== info.mtimeMs || entry.size !== info.size) {
      entry = { mtimeMs: info.mtimeMs, size: info.size, bodies: {} };
      compressed.set(file, entry);
    }
    const cached = entry.bodies[encoding];
    if (cached) return cached;
    const { bodies } = entry;
    const body = readFile(file).then((raw) => compress(raw, encoding));
    bodies[encoding] = body;
    body.catch(() => {
      if (bodies[encoding] === body) delete bodies[encoding];
    });
    return body;
  };

  const send = async (req: IncomingMessage, res: ServerResponse, file: string, status: number) => {
    const ext = path.extname(file);
    const info = await stat(file);
    const type = TYPES[ext] ?? 'application/octet-stream';
    const compressible = isCompressible(type);
    const encoding =
      compressible && info.size >= COMPRESS_MIN_BYTES && info.size <= COMPRESS_MAX_BYTES
        ? negotiateEncoding(req.headers['accept-encoding'])
        : null;
    const body = encoding ? await compressedBody(file, info, encoding) : null;
    res.writeHead(status, {
      ...headersFor(),
      'content-type': type,
      'content-length': body ? body.length : info.size,
      ...(encoding ? { 'content-encoding': encoding } : {}),
      ...(compressible ? { vary: 'Accept-Encoding' } : {}),
      'cache-control': cacheControlFor(req.url ?? '/'),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (body) res.end(body);
    else createReadStream(file).pipe(res);
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/config.json') {
        const config = getConfig();
        const body = JSON.stringify({
          httpApi: config.httpApi,
          wsApi: config.wsApi,
          ...(config.vapidPublicKey ? { vapidPublicKey: config.vapidPublicKey } : {}),
        });
        res.writeHead(200, {
          ...headersFor(),
          'content-type': 'application/json; charset=utf-8',
          'cache-control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      const file = await resolveStatic(root, url.pathname);
      if (file) return send(req, res, file, 200);
      const notFound = path.join(root, '404.html');
      if (await isFile(notFound)) return send(req, res, notFound, 404);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const USAGE = `usage: tsx local/web-server.ts [--build] [--port n] [--host h] [--root dir] [--http url] [--ws url]
  --build   build the web client first when it is missing or stale
  --port    WEB_PORT or 3000          --host  WEB_HOST or 127.0.0.1     --root  web/out
  --http    HTTP_API_URL or http://localhost:8081    --ws  WS_API_URL or ws://localhost:8080`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const fail: UsageFailure = usageFailure('web-server', USAGE);
  const { values: arg } = parseCommandLine(
    {
      args: process.argv.slice(2),
      options: {
        build: { type: 'boolean' },
        port: { type: 'string' },
        host: { type: 'string' },
        root: { type: 'string' },
        http: { type: 'string' },
        ws: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    },
    fail,
  );
  if (arg.help) {
    console.log(USAGE);
    process.exit(0);
  }
  // 0: any free port
  const port = numberFlag(arg.port, '--port', fail, { integer: true, inclusive: true });
  if (port !== undefined && port > 65535) fail(`--port must be at most 65535, got '${arg.port}'`);
  if (arg.build) {
    const ms = buildWebIfStale();
    console.log(ms ? `web client built in ${(ms / 1000).toFixed(0)}s` : 'web client up to date');
  }
  const web = await startWebServer({
    port: port ?? Number(process.env.WEB_PORT ?? 3000),
    host: arg.host ?? process.env.WEB_HOST ?? '127.0.0.1',
    root: arg.root,
    config: {
      httpApi: arg.http ?? process.env.HTTP_API_URL ?? 'http://localhost:8081',
      wsApi: arg.ws ?? process.env.WS_API_URL ?? 'ws://localhost:8080',
      // the local S3 server the runtime's functions use (local/runtime/deployment.ts, the same default)
      attachmentsOrigin: new URL(process.env.S3_ENDPOINT || 'http://127.0.0.1:9000').origin,
      // The local VAPID public key (the file the local runtime's functions sign with; made on first use).
      vapidPublicKey: (await ensureLocalVapidKeys()).publicKey,
    },
  });
  console.log(`web client on ${web.url}`);
}
