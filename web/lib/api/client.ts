import type {
  AuthResponse,
  Conversation,
  ConversationsResponse as ConversationsPage,
  CreateConversationBody,
  HistoryResponse as HistoryPage,
  Presence,
  Receipt,
  User,
  UsersResponse as UsersPage,
} from '@chat/functions/contracts';
import type { z } from 'zod';
import type { AppConfig } from '../config.ts';
import { ChatError } from './errors.ts';
import { type Contracts, loadContracts } from './schemas.ts';
import { type Session, type SessionStore, sessionFrom } from './session.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Picks the schema of a success body from the (lazily loaded) contracts. */
type SchemaOf<S extends z.ZodType> = (contracts: Contracts) => S;

/** What a request resolves to: the parsed success body, or null for a 204 answer. */
type Answer<S> = S extends SchemaOf<infer Z> ? z.infer<Z> : null;

interface RequestOptions<S extends SchemaOf<z.ZodType> | null> {
  body?: unknown;
  /** Schema of a success body; null for 204 answers. */
  schema: S;
  /** Send the access token (and refresh once on 401). Default true. */
  auth?: boolean;
  signal?: AbortSignal;
}

export interface ApiClientOptions {
  config: () => Promise<AppConfig>;
  sessions: SessionStore;
  fetch?: typeof fetch;
  /** Refresh this long before the access token expires. */
  refreshLeewayMs?: number;
}

/** Cross-tab mutual exclusion where the browser has Web Locks; a plain call elsewhere. */
async function withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks) return fn();
  return locks.request('chat.refresh', fn) as Promise<T>;
}

/**
 * The typed HTTP client over the contracts. Every answer is parsed with its schema; every failure is a
 * `ChatError` with a code. An authenticated call that gets 401 refreshes the tokens once and retries.
 */
export class ApiClient {
  private readonly fetchImpl: typeof fetch;
  private refreshing: Promise<Session> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  readonly sessions: SessionStore;
  private readonly leeway: number;

  constructor(private readonly options: ApiClientOptions) {
    this.fetchImpl = options.fetch ?? ((...args) => fetch(...args));
    this.sessions = options.sessions;
    this.leeway = options.refreshLeewayMs ?? 60_000;
  }

  // ── auth ──────────────────────────────────────────────────────────────────────────────────────────────

  async signup(username: string, password: string, displayName?: string): Promise<Session> {
    const body = displayName ? { username, password, displayName } : { username, password };
    const auth = await this.request('POST', '/auth/signup', {
      body,
      schema: (c) => c.AuthResponse,
      auth: false,
    });
    return this.adopt(auth);
  }

  async login(username: string, password: string): Promise<Session> {
    const auth = await this.request('POST', '/auth/login', {
      body: { username, password },
      schema: (c) => c.AuthResponse,
      auth: false,
    });
    return this.adopt(auth);
  }

  /** Revokes the refresh token (best effort) and forgets the session. */
  async logout(): Promise<void> {
    const s = this.sessions.get();
    this.stopBackgroundRefresh();
    this.sessions.set(null);
    if (!s) return;
    try {
      await this.request('POST', '/auth/logout', {
        body: { refreshToken: s.refreshToken },
        schema: null,
        auth: false,
      });
    } catch {
      // signed out locally either way
    }
  }

  /**
   * Rotates the tokens. One refresh at a time, in this tab and across tabs: a tab that waited for another
   * tab's refresh adopts its result instead of spending an already revoked refresh token.
   */
  refresh(): Promise<Session> {
    if (this.refreshing) return this.refreshing;
    const used = this.sessions.get()?.refreshToken;
    this.refreshing = withRefreshLock(async () => {
      const latest = this.sessions.reload();
      if (!latest) throw new ChatError('signed_out', 'Not signed in.');
      if (used && latest.refreshToken !== used && latest.expiresAt - Date.now() > this.leeway) return latest;
      try {
        const auth = await this.request('POST', '/auth/refresh', {
          body: { refreshToken: latest.refreshToken },
          schema: (c) => c.AuthResponse,
          auth: false,
        });
        return this.adopt(auth);
      } catch (e) {
        if (e instanceof ChatError && (e.status === 401 || e.code === 'invalid_refresh_token')) {
          this.sessions.set(null);
          throw new ChatError('signed_out', 'Your session ended.', { status: 401, cause: e });
        }
        throw e;
      }
    }).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** Keeps the access token fresh in the background until stopped (or signed out). */
  startBackgroundRefresh(): () => void {
    const schedule = (): void => {
      if (this.refreshTimer) clearTimeout(this.refreshTimer);
      const s = this.sessions.get();
      if (!s) return;
      const delay = Math.max(5_000, s.expiresAt - Date.now() - this.leeway);
      this.refreshTimer = setTimeout(() => {
        this.refresh().then(schedule, (e: unknown) => {
          // signed_out ends the loop (the session store tells the UI); anything else tries again soon
          if (!(e instanceof ChatError && e.code === 'signed_out')) {
            this.refreshTimer = setTimeout(schedule, 15_000);
          }
        });
      }, delay);
    };
    schedule();
    const unsubscribe = this.sessions.subscribe(schedule);
    return () => {
      unsubscribe();
      this.stopBackgroundRefresh();
    };
  }

  private stopBackgroundRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  // ── resources ─────────────────────────────────────────────────────────────────────────────────────────

  me(): Promise<User> {
    return this.request('GET', '/me', { schema: (c) => c.User });
  }

  /** A one-time WebSocket ticket (about 30 s). */
  wsTicket(): Promise<string> {
    return this.request('POST', '/auth/ws-ticket', { schema: (c) => c.TicketResponse }).then((t) => t.ticket);
  }

  searchUsers(query: string, signal?: AbortSignal): Promise<UsersPage['users']> {
    const q = new URLSearchParams({ query });
    return this.request('GET', `/users?${q}`, { schema: (c) => c.UsersResponse, signal }).then(
      (r) => r.users,
    );
  }

  createConversation(body: CreateConversationBody): Promise<Conversation> {
    return this.request('POST', '/conversations', { body, schema: (c) => c.Conversation });
  }

  /** A page of conversations, most recent activity first; `cursor` is the previous page's `nextCursor`. */
  listConversations(cursor?: string | null): Promise<ConversationsPage> {
    // the cursor is base64url: nothing to escape
    return this.request('GET', `/conversations?cursor=${cursor ?? ''}`, {
      schema: (c) => c.ConversationsResponse,
    });
  }

  getConversation(id: string): Promise<Conversation> {
    return this.request('GET', `/conversations/${encodeURIComponent(id)}`, { schema: (c) => c.Conversation });
  }

  /** `before` pages back (newest first); `after` fills a gap forward (oldest first). */
  history(id: string, page: { before?: string; after?: string; limit?: number } = {}): Promise<HistoryPage> {
    const q = new URLSearchParams();
    if (page.before) q.set('before', page.before);
    if (page.after) q.set('after', page.after);
    if (page.limit) q.set('limit', String(page.limit));
    const qs = q.size ? `?${q}` : '';
    return this.request('GET', `/conversations/${encodeURIComponent(id)}/messages${qs}`, {
      schema: (c) => c.HistoryResponse,
    });
  }

  markRead(id: string, messageId: string): Promise<null> {
    return this.request('POST', `/conversations/${encodeURIComponent(id)}/read`, {
      body: { messageId },
      schema: null,
    });
  }

  receipts(id: string): Promise<Receipt[]> {
    return this.request('GET', `/conversations/${encodeURIComponent(id)}/receipts`, {
      schema: (c) => c.ReceiptsResponse,
    }).then((r) => r.receipts);
  }

  presence(userIds: readonly string[]): Promise<Presence[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    const q = new URLSearchParams({ userIds: userIds.join(',') });
    return this.request('GET', `/presence?${q}`, { schema: (c) => c.PresenceResponse }).then(
      (r) => r.presence,
    );
  }

  // ── plumbing ──────────────────────────────────────────────────────────────────────────────────────────

  private adopt(auth: AuthResponse): Session {
    const s = sessionFrom(auth);
    this.sessions.set(s);
    return s;
  }

  async request<S extends SchemaOf<z.ZodType> | null>(
    method: Method,
    path: string,
    opts: RequestOptions<S>,
  ): Promise<Answer<S>> {
    const auth = opts.auth ?? true;
    if (auth) {
      const s = this.sessions.get();
      if (!s) throw new ChatError('signed_out', 'Not signed in.');
      // about to expire: refresh first rather than spend a round trip on a 401
      if (s.expiresAt - Date.now() < 5_000) await this.refresh();
    }
    try {
      return await this.send(method, path, opts, auth);
    } catch (e) {
      if (!(auth && e instanceof ChatError && e.status === 401)) throw e;
      await this.refresh();
      return this.send(method, path, opts, auth);
    }
  }

  private async send<S extends SchemaOf<z.ZodType> | null>(
    method: Method,
    path: string,
    opts: RequestOptions<S>,
    auth: boolean,
  ): Promise<Answer<S>> {
    // the schemas load while the request is in flight
    const contracts = opts.schema === null ? null : loadContracts();
    contracts?.catch(() => undefined);
    const { httpApi } = await this.options.config();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (auth) {
      const s = this.sessions.get();
      if (!s) throw new ChatError('signed_out', 'Not signed in.');
      headers.authorization = `Bearer ${s.accessToken}`;
    }
    let res: Response;
    try {
      res = await this.fetchImpl(`${httpApi}${path}`, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal,
      });
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') throw e;
      const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
      throw new ChatError(offline ? 'offline' : 'network', 'Cannot reach the server.', { cause: e });
    }
    const text = await res.text();
    let json: unknown = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
      const code =
        typeof err?.code === 'string' ? err.code : res.status === 401 ? 'unauthorized' : 'internal';
      const message = typeof err?.message === 'string' ? err.message : `HTTP ${res.status}`;
      throw new ChatError(code, message, { status: res.status });
    }
    if (opts.schema === null || contracts === null) return null as Answer<S>;
    let schema: z.ZodType;
    try {
      schema = opts.schema(await contracts);
    } catch (e) {
      throw new ChatError('network', 'Cannot reach the server.', { cause: e });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new ChatError('bad_response', `Unexpected answer from ${method} ${path.split('?')[0]}.`, {
        status: res.status,
        cause: parsed.error,
      });
    }
    return parsed.data as Answer<S>;
  }
}
