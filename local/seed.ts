/**
 * Demo data through the public API only, so a newcomer can sign in and chat at once: two accounts (signed up,
 * or signed in when they exist: idempotent), a DM between them, and a short first exchange when the DM is
 * still empty. Prints the credentials.
 *
 * Programmatic: `await seedDemo({ httpApi, wsApi })`; CLI: `tsx local/seed.ts [--http URL] [--ws URL]`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine, usageFailure } from '@chat/kit/cli';
import WebSocket from 'ws';

export interface DemoAccount {
  username: string;
  password: string;
  displayName: string;
}

export interface SeedOptions {
  httpApi: string;
  wsApi: string;
  accounts?: readonly [DemoAccount, DemoAccount];
  /** Send the welcome exchange into an empty DM (default true). */
  messages?: boolean;
  log?: (line: string) => void;
}

export interface SeedResult {
  accounts: readonly [DemoAccount, DemoAccount];
  conversationId: string;
  messagesSent: number;
}

const password = process.env.SEED_PASSWORD ?? 'chat-demo-password';

export const demoAccounts: readonly [DemoAccount, DemoAccount] = [
  { username: 'alice', password, displayName: 'Alice Martin' },
  { username: 'bob', password, displayName: 'Bob Chen' },
];

interface Auth {
  user: { id: string; username: string };
  accessToken: string;
}

class SeedError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

async function call<T>(
  httpApi: string,
  method: string,
  p: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  const res = await fetch(`${httpApi}${p}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : null;
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
    throw new SeedError(`${method} ${p}: ${res.status} ${err?.message ?? text}`, res.status, err?.code);
  }
  return json as T;
}

/** Signs up, or signs in when the username exists (the seed runs on every `npm start`). */
async function ensureAccount(httpApi: string, a: DemoAccount): Promise<Auth> {
  try {
    return await call<Auth>(httpApi, 'POST', '/auth/signup', {
      username: a.username,
      password: a.password,
      displayName: a.displayName,
    });
  } catch (e) {
    if (!(e instanceof SeedError && e.code === 'username_taken')) throw e;
  }
  try {
    return await call<Auth>(httpApi, 'POST', '/auth/login', { username: a.username, password: a.password });
  } catch (e) {
    if (e instanceof SeedError && e.code === 'invalid_credentials') {
      throw new Error(
        `The demo user "${a.username}" exists with another password. Set SEED_PASSWORD to it, or reset the local data.`,
      );
    }
    throw e;
  }
}

async function connect(httpApi: string, wsApi: string, auth: Auth): Promise<WebSocket> {
  const { ticket } = await call<{ ticket: string }>(httpApi, 'POST', '/auth/ws-ticket', {}, auth.accessToken);
  const ws = new WebSocket(`${wsApi}/?ticket=${encodeURIComponent(ticket)}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`WebSocket handshake: HTTP ${res.statusCode}`)),
    );
  });
  return ws;
}

/** Sends one message and waits until it comes back persisted (resending the same clientMsgId if refused). */
async function sendAndWait(
  ws: WebSocket,
  conversationId: string,
  body: string,
  timeoutMs = 60_000,
): Promise<void> {
  const clientMsgId = `seed-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const frame = JSON.stringify({ action: 'sendMessage', conversationId, clientMsgId, body });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      reject(new Error('a welcome message was not persisted in time'));
    }, timeoutMs);
    const onMessage = (data: WebSocket.RawData) => {
      const e = JSON.parse(String(data)) as {
        type: string;
        code?: string;
        message?: { clientMsgId: string };
      };
      if (e.type === 'message' && e.message?.clientMsgId === clientMsgId) {
        clearTimeout(timer);
        ws.off('message', onMessage);
        resolve();
      } else if (e.type === 'error' && e.code === 'rate_limited') {
        setTimeout(() => ws.send(frame), 1_000);
      }
    };
    ws.on('message', onMessage);
    ws.send(frame);
  });
}

const welcome: ReadonlyArray<[0 | 1, string]> = [
  [1, 'Hey Alice! 👋 Welcome to **Chat**.'],
  [
    0,
    "Hi Bob! Does it do code?\n\n```ts\nexport function greet(name: string): string {\n  return 'Hello, ' + name;\n}\n```",
  ],
  [
    1,
    'It does: *Markdown*, code, links like https://example.com, read receipts ✓✓ and typing indicators.\n\nOpen a second window and sign in as me to try it.',
  ],
];

export async function seedDemo(options: SeedOptions): Promise<SeedResult> {
  const { httpApi, wsApi } = options;
  const log = options.log ?? (() => undefined);
  const accounts = options.accounts ?? demoAccounts;
  const auths = [
    await ensureAccount(httpApi, accounts[0]),
    await ensureAccount(httpApi, accounts[1]),
  ] as const;
  const conv = await call<{ id: string; lastMessage: unknown }>(
    httpApi,
    'POST',
    '/conversations',
    { type: 'dm', peerId: auths[1].user.id },
    auths[0].accessToken,
  );
  let messagesSent = 0;
  if (options.messages !== false && conv.lastMessage === null) {
    const sockets = [
      await connect(httpApi, wsApi, auths[0]),
      await connect(httpApi, wsApi, auths[1]),
    ] as const;
    try {
      for (const [who, body] of welcome) {
        await sendAndWait(sockets[who], conv.id, body);
        messagesSent++;
      }
    } finally {
      for (const s of sockets) s.close();
    }
  }
  log(`demo DM ${conv.id}${messagesSent ? ` with ${messagesSent} welcome messages` : ''}`);
  return { accounts, conversationId: conv.id, messagesSent };
}

/** The lines `npm start` prints. */
export function formatCredentials(accounts: readonly DemoAccount[], webUrl?: string): string {
  const lines = [
    '',
    `Demo accounts${webUrl ? ` (open ${webUrl} in two windows, one per account)` : ''}:`,
    ...accounts.map(
      (a) => `  ${a.displayName.padEnd(14)} username: ${a.username.padEnd(8)} password: ${a.password}`,
    ),
    '',
  ];
  return lines.join('\n');
}

const USAGE = `usage: tsx local/seed.ts [--http URL] [--ws URL] [--web URL]
  --http  HTTP_API_URL or http://localhost:8081    --ws  WS_API_URL or ws://localhost:8080
  --web   WEB_URL, printed with the credentials    SEED_PASSWORD: the demo accounts' password`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values: arg } = parseCommandLine(
    {
      options: {
        http: { type: 'string' },
        ws: { type: 'string' },
        web: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    },
    usageFailure('seed', USAGE),
  );
  if (arg.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const httpApi = arg.http ?? process.env.HTTP_API_URL ?? 'http://localhost:8081';
  const wsApi = arg.ws ?? process.env.WS_API_URL ?? 'ws://localhost:8080';
  try {
    const result = await seedDemo({ httpApi, wsApi, log: (l) => console.log(l) });
    console.log(formatCredentials(result.accounts, arg.web ?? process.env.WEB_URL));
  } catch (e) {
    console.error(`seed failed: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
