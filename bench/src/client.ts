/**
 * A small client for the public protocol (docs/protocol.md), typed by the contract module: HTTP with fetch,
 * WebSocket with `ws`. The bench speaks only this, like any third-party client.
 */
import type {
  AuthResponse,
  ClientFrame,
  Conversation,
  CreateConversationBody,
  HistoryResponse,
  HttpErrorBody,
  ServerEvent,
  TicketResponse,
} from '@chat/functions/contracts';
import WebSocket from 'ws';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = 'HttpError';
  }
}

export interface Endpoints {
  httpUrl: string;
  wsUrl: string;
}

export class Api {
  /** Mutable: the fuzzer points it at a fresh runtime after a crash. */
  constructor(public httpUrl: string) {}

  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    timeoutMs = 30_000,
  ): Promise<T> {
    const res = await fetch(`${this.httpUrl}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) {
      let code = 'http_error';
      let message = text.slice(0, 200);
      try {
        const parsed = JSON.parse(text) as HttpErrorBody;
        code = parsed.error.code;
        message = parsed.error.message;
      } catch {
        // not the contract's error body
      }
      throw new HttpError(res.status, code, message);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  signup(username: string, password: string): Promise<AuthResponse> {
    return this.call('POST', '/auth/signup', { username, password, displayName: username });
  }

  login(username: string, password: string): Promise<AuthResponse> {
    return this.call('POST', '/auth/login', { username, password });
  }

  refresh(refreshToken: string): Promise<AuthResponse> {
    return this.call('POST', '/auth/refresh', { refreshToken });
  }

  ticket(token: string): Promise<TicketResponse> {
    return this.call('POST', '/auth/ws-ticket', undefined, token);
  }

  createConversation(token: string, body: CreateConversationBody): Promise<Conversation> {
    return this.call('POST', '/conversations', body, token);
  }

  conversation(token: string, id: string): Promise<Conversation> {
    return this.call('GET', `/conversations/${encodeURIComponent(id)}`, undefined, token);
  }

  history(
    token: string,
    id: string,
    q: { after?: string; before?: string; limit?: number },
  ): Promise<HistoryResponse> {
    const params = new URLSearchParams();
    if (q.after) params.set('after', q.after);
    if (q.before) params.set('before', q.before);
    params.set('limit', String(q.limit ?? 100));
    return this.call('GET', `/conversations/${encodeURIComponent(id)}/messages?${params}`, undefined, token);
  }

  markRead(token: string, id: string, messageId: string): Promise<void> {
    return this.call('POST', `/conversations/${encodeURIComponent(id)}/read`, { messageId }, token);
  }
}

export interface OpenedSocket {
  ws: WebSocket;
  /** ms from starting the handshake to `open`. */
  connectMs: number;
}

/** Open a WebSocket with a ticket; rejects on a refused handshake (e.g. 401) or after `timeoutMs`. */
export function openSocket(
  wsUrl: string,
  ticket: string,
  onEvent: (ev: ServerEvent, raw: string) => void,
  timeoutMs = 15_000,
): Promise<OpenedSocket> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsUrl}/?ticket=${encodeURIComponent(ticket)}`, {
      perMessageDeflate: false,
      handshakeTimeout: timeoutMs,
    });
    ws.on('message', (data, isBinary) => {
      const raw = isBinary ? '' : data.toString();
      let ev: ServerEvent;
      try {
        ev = JSON.parse(raw) as ServerEvent;
      } catch {
        ev = { type: 'error', code: 'bench_unparseable', message: raw.slice(0, 200) };
      }
      onEvent(ev, raw);
    });
    ws.once('open', () => resolve({ ws, connectMs: performance.now() - t0 }));
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`handshake refused: HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

export function sendFrame(ws: WebSocket, frame: ClientFrame): void {
  ws.send(JSON.stringify(frame));
}

/** A ULID that sorts before every id minted at or after `ms` (time part, then all-zero randomness). */
export function ulidFloor(ms: number): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let t = Math.floor(ms);
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `${time}${'0'.repeat(16)}`;
}
