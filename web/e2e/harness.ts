/**
 * The e2e stack, started once per test file: the local runtime (WebSocket + HTTP API over the real services,
 * ephemeral ports), the static export served by local/web-server.ts (ephemeral port, a config.json that
 * points at the runtime), and Debian's chromium driven by playwright-core.
 */

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { repoRoot } from '@chat/kit/paths';
import { connectWs } from '@chat/local/testing';
import { buildWebIfStale, startWebServer, type WebConfig, type WebServer } from '@chat/local/web-server';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const EMOJI_FONT = '/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf';

/**
 * Debian's chromium (and a colour emoji font, so screenshots show 🎉 rather than boxes); installed with apt
 * when missing (CI runs as root). The font is best effort; the browser is required.
 */
export function ensureChromium(): string {
  const packages = [
    ...(existsSync(CHROMIUM) ? [] : ['chromium']),
    ...(existsSync(EMOJI_FONT) ? [] : ['fonts-noto-color-emoji']),
  ];
  if (packages.length === 0) return CHROMIUM;
  console.warn(`installing ${packages.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], {
      stdio: 'inherit',
      env,
    });
  } catch (e) {
    if (!existsSync(CHROMIUM)) throw e;
  }
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is still missing at ${CHROMIUM}`);
  return CHROMIUM;
}

export const launchArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * The part of local/runtime's `LocalRuntime` the e2e tests use. The runtime is imported at run time
 * (not as a type) because its files are type-checked by the infra workspace, whose settings differ from the
 * web's (Next.js augments `process.env`).
 */
export interface RuntimeHandle {
  readonly wsUrl: string;
  readonly httpUrl: string;
  connections(): string[];
  stop(): Promise<void>;
}

interface RuntimeModule {
  startLocalRuntime(options: Record<string, unknown>): Promise<RuntimeHandle>;
  httpApiCors(origins: readonly string[]): unknown;
}

const runtimeModule = path.join(repoRoot, 'local', 'runtime', 'index.ts');
/** The functions' operations (the local VAPID keys), imported at run time for the same reason. */
const operationsModule = path.join(repoRoot, 'functions', 'src', 'operations.ts');

async function localVapidPublicKey(): Promise<string> {
  const ops = (await import(operationsModule)) as {
    ensureLocalVapidKeys(): Promise<{ publicKey: string }>;
  };
  return (await ops.ensureLocalVapidKeys()).publicKey;
}

export interface Stack {
  runtime: RuntimeHandle;
  web: WebServer;
  browser: Browser;
  /** The web client's URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** `phone`: 390 × 844 at 2×; `touch`: a touch screen (mobile viewport meta, touch events); `viewport`: another size. */
  newContext(options?: {
    dark?: boolean;
    phone?: boolean;
    touch?: boolean;
    viewport?: { width: number; height: number };
  }): Promise<BrowserContext>;
  stop(): Promise<void>;
}

/**
 * `root`: serve this static export instead of web/out (built when stale), e.g. another revision's.
 * `webPush`: config.json carries the local VAPID public key (the key the runtime's functions sign with), so the
 * app offers and uses Web Push (notifications.test.ts); off by default, so the other scenarios (and their
 * screenshots) do not get the notifications prompt after a first message.
 */
export async function startStack(options: { root?: string; webPush?: boolean } = {}): Promise<Stack> {
  const executablePath = ensureChromium();
  const built = options.root ? 0 : buildWebIfStale();
  if (built) console.warn(`web: next build in ${(built / 1000).toFixed(0)}s`);
  // the web server first (its origin goes into the HTTP API's CORS), the endpoints once the runtime is up
  let config: WebConfig | null = null;
  const web = await startWebServer({
    port: 0,
    root: options.root,
    config: () => {
      if (!config) throw new Error('runtime not started yet');
      return config;
    },
  });
  const { startLocalRuntime, httpApiCors } = (await import(runtimeModule)) as RuntimeModule;
  const runtime = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    cors: httpApiCors([web.url]),
    // the web origin also goes into the attachments bucket's CORS (uploads PUT straight to S3)
    env: { WEB_ORIGIN: web.url },
    log: process.env.E2E_LOG ? 'inherit' : 'silent',
  });
  // attachments go to the local S3 server the runtime's functions use (S3_ENDPOINT, default as in
  // local/runtime/deployment.ts)
  config = {
    httpApi: runtime.httpUrl,
    wsApi: runtime.wsUrl,
    attachmentsOrigin: new URL(process.env.S3_ENDPOINT || 'http://127.0.0.1:9000').origin,
    ...(options.webPush ? { vapidPublicKey: await localVapidPublicKey() } : {}),
  };
  await warmUp(runtime);
  const browser = await chromium.launch({ executablePath, args: launchArgs });
  return {
    runtime,
    web,
    browser,
    url: web.url,
    newContext: ({ dark = false, phone = false, touch = false, viewport } = {}) =>
      browser.newContext({
        baseURL: web.url,
        viewport: viewport ?? (phone ? { width: 390, height: 844 } : { width: 1280, height: 800 }),
        deviceScaleFactor: phone ? 2 : 1,
        ...(touch ? { isMobile: true, hasTouch: true } : {}),
        colorScheme: dark ? 'dark' : 'light',
        locale: 'en-US',
        timezoneId: 'UTC',
      }),
    async stop() {
      await browser.close().catch(() => undefined);
      await web.close().catch(() => undefined);
      await runtime.stop().catch(() => undefined);
    },
  };
}

/** A unique, valid username (3–32 of a–z 0–9 _), so parallel runs never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`.slice(0, 32);
}

// ── a plain protocol client (Node, no browser): warm-up and bulk history ────────────────────────────────

interface Tokens {
  accessToken: string;
  user: { id: string };
}

async function post<T>(httpApi: string, p: string, body: unknown, token?: string): Promise<T> {
  // 503 = a backing service is (re)starting, e.g. the first call after the services came up: wait for it
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${httpApi}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (res.status === 503 && attempt < 30) {
      await delay(2_000);
      continue;
    }
    if (!res.ok) throw new Error(`POST ${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }
}

/** Signs in (or up) over HTTP and opens a WebSocket; `send` resends what the server refused for rate. */
export async function protocolClient(
  runtime: Pick<RuntimeHandle, 'httpUrl' | 'wsUrl'>,
  username: string,
  password: string,
  signup: false | { displayName?: string } = false,
) {
  const auth = await post<Tokens>(
    runtime.httpUrl,
    signup ? '/auth/signup' : '/auth/login',
    signup ? { username, password, ...signup } : { username, password },
  );
  const { ticket } = await post<{ ticket: string }>(runtime.httpUrl, '/auth/ws-ticket', {}, auth.accessToken);
  const ws = await connectWs(`${runtime.wsUrl}/`, { ticket });
  const persisted = new Set<string>();
  const acked = new Set<string>();
  const frames = new Map<string, string>();
  ws.onEvent((event) => {
    const e = event as { type?: string; clientMsgId?: string; message?: { clientMsgId: string } };
    if (e.type === 'message' && e.message) persisted.add(e.message.clientMsgId);
    if (e.type === 'ack' && e.clientMsgId) acked.add(e.clientMsgId);
  });
  return {
    user: auth.user,
    token: auth.accessToken,
    persisted,
    /** The first server event matching the predicate (see `WsClient.next`). */
    next: ws.next,
    createDm: (peerId: string) =>
      post<{ id: string }>(runtime.httpUrl, '/conversations', { type: 'dm', peerId }, auth.accessToken),
    /** Sends in order, paced under the frame rate limit, and waits until every one came back persisted. */
    async sendAll(conversationId: string, bodies: string[], timeoutMs = 60_000): Promise<void> {
      const ids = bodies.map((_, i) => `bulk-${Date.now().toString(36)}-${i}`);
      for (const [i, body] of bodies.entries()) {
        const id = ids[i] as string;
        const frame = JSON.stringify({ action: 'sendMessage', conversationId, clientMsgId: id, body });
        frames.set(id, frame);
        ws.send(frame);
        await delay(120);
      }
      const deadline = Date.now() + timeoutMs;
      let lastResend = Date.now();
      while (ids.some((id) => !persisted.has(id))) {
        if (Date.now() > deadline)
          throw new Error(`only ${ids.filter((id) => persisted.has(id)).length}/${ids.length} persisted`);
        // a rate_limited refusal does not name the message: resend the unacknowledged ones (same ids)
        if (Date.now() - lastResend > 3_000) {
          lastResend = Date.now();
          for (const id of ids) if (!acked.has(id) && !persisted.has(id)) ws.send(frames.get(id) as string);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: () => ws.close(),
  };
}

/**
 * First invocations pay for cold starts and the Kafka consumer's group join (seconds): pay them before the
 * browser scenarios start, so their timeouts measure the app, not the warm-up.
 */
export async function warmUp(runtime: Pick<RuntimeHandle, 'httpUrl' | 'wsUrl'>): Promise<void> {
  const password = 'warm up password';
  const a = await protocolClient(runtime, uniqueName('warm'), password, {});
  const b = await protocolClient(runtime, uniqueName('warm'), password, {});
  const conv = await a.createDm(b.user.id);
  await a.sendAll(conv.id, ['warming up'], 120_000);
  await b.next((e) => e.type === 'message', 120_000);
  await Promise.all([a.close(), b.close()]);
}
