import type { ClientFrame, ServerEvent } from '@chat/functions/contracts';
import { ChatError } from '../api/errors.ts';
import { type Contracts, loadContracts } from '../api/schemas.ts';
import { limits } from '../limits.ts';
import { type BackoffOptions, backoffDelay } from './backoff.ts';

export type ConnectionStatus =
  /** not started, or stopped */
  | 'idle'
  /** getting a ticket and opening the socket */
  | 'connecting'
  | 'open'
  /** lost; the next attempt is scheduled at `retryAt` */
  | 'waiting'
  /** the browser says it is offline; we try again when it is back */
  | 'offline'
  /** the session ended: no more attempts */
  | 'signed_out';

export interface ConnectionState {
  status: ConnectionStatus;
  /** Failed attempts in a row. */
  attempt: number;
  /** Epoch ms of the next attempt while `waiting`. */
  retryAt: number | null;
}

/** The parts of the browser's WebSocket the client uses (a fake one in unit tests). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Browser events the client reacts to (window + document in the browser). */
export interface Environment {
  isOnline(): boolean;
  onOnline(fn: () => void): () => void;
  onOffline(fn: () => void): () => void;
  onVisible(fn: () => void): () => void;
}

export interface RealtimeOptions {
  /** WebSocket API base URL, e.g. `ws://localhost:8080`. */
  wsApi: () => Promise<string>;
  /** A fresh one-time ticket for each connect (POST /auth/ws-ticket). */
  ticket: () => Promise<string>;
  createSocket?: (url: string) => SocketLike;
  environment?: Environment;
  backoff?: BackoffOptions;
  heartbeatMs?: number;
  /** After a ping, this long without any frame means the connection is dead. */
  pongTimeoutMs?: number;
  /** An open socket that lives this long resets the attempt counter. */
  stableAfterMs?: number;
}

export interface OpenInfo {
  /** True when this is not the first connection since start(). */
  reconnect: boolean;
}

const OPEN = 1;

function browserEnvironment(): Environment {
  const listen = (target: EventTarget, type: string, fn: () => void): (() => void) => {
    target.addEventListener(type, fn);
    return () => target.removeEventListener(type, fn);
  };
  return {
    isOnline: () => navigator.onLine !== false,
    onOnline: (fn) => listen(window, 'online', fn),
    onOffline: (fn) => listen(window, 'offline', fn),
    onVisible: (fn) =>
      listen(document, 'visibilitychange', () => {
        if (document.visibilityState === 'visible') fn();
      }),
  };
}

/**
 * One logical realtime connection: a ticket per connect, reconnect with exponential backoff and jitter, a
 * heartbeat `ping` (which also detects dead sockets), and a state for the UI. Frames are parsed with the
 * contract's `ServerEvent` schema (loaded before the first socket opens); anything that does not parse is
 * ignored.
 */
export class RealtimeClient {
  private socket: SocketLike | null = null;
  private state: ConnectionState = { status: 'idle', attempt: 0, retryAt: null };
  private running = false;
  private opened = false;
  private generation = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private stableTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly detach: Array<() => void> = [];
  private readonly eventListeners = new Set<(e: ServerEvent) => void>();
  private readonly stateListeners = new Set<(s: ConnectionState) => void>();
  private readonly openListeners = new Set<(info: OpenInfo) => void>();
  private readonly env: Environment;
  private readonly createSocket: (url: string) => SocketLike;

  constructor(private readonly options: RealtimeOptions) {
    this.env = options.environment ?? browserEnvironment();
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
  }

  getState(): ConnectionState {
    return this.state;
  }

  isOpen(): boolean {
    return this.socket?.readyState === OPEN && this.state.status === 'open';
  }

  onEvent(fn: (e: ServerEvent) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  onState(fn: (s: ConnectionState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  onOpen(fn: (info: OpenInfo) => void): () => void {
    this.openListeners.add(fn);
    return () => this.openListeners.delete(fn);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.opened = false;
    this.detach.push(
      this.env.onOnline(() => this.reconnectNow()),
      this.env.onOffline(() => this.goOffline()),
      this.env.onVisible(() => {
        if (this.state.status === 'waiting') this.reconnectNow();
      }),
    );
    if (this.env.isOnline()) void this.connect();
    else this.setState({ status: 'offline', attempt: 0, retryAt: null });
  }

  stop(): void {
    this.running = false;
    for (const d of this.detach.splice(0)) d();
    this.clearTimers();
    this.dropSocket(1000, 'client stop');
    this.setState({ status: 'idle', attempt: 0, retryAt: null });
  }

  /** Writes a frame when the socket is open; returns false otherwise (the caller keeps it pending). */
  send(frame: ClientFrame): boolean {
    if (!this.isOpen() || !this.socket) return false;
    const data = JSON.stringify(frame);
    if (data.length > limits.wsFrameMaxBytes) return false;
    try {
      this.socket.send(data);
      return true;
    } catch {
      return false;
    }
  }

  /** Skips the wait (the user clicked "retry now", the network came back). */
  reconnectNow(): void {
    if (!this.running) return;
    if (this.state.status === 'open' || this.state.status === 'connecting') return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.setState({ status: 'waiting', attempt: 0, retryAt: null });
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (!this.running) return;
    const generation = ++this.generation;
    this.setState({ status: 'connecting', attempt: this.state.attempt, retryAt: null });
    let url: string;
    let contracts: Contracts;
    try {
      const [base, ticket, schemas] = await Promise.all([
        this.options.wsApi(),
        this.options.ticket(),
        loadContracts(),
      ]);
      url = `${base}/?ticket=${encodeURIComponent(ticket)}`;
      contracts = schemas;
    } catch (e) {
      if (generation !== this.generation || !this.running) return;
      if (e instanceof ChatError && e.code === 'signed_out') {
        this.running = false;
        this.setState({ status: 'signed_out', attempt: 0, retryAt: null });
        return;
      }
      this.scheduleRetry();
      return;
    }
    if (generation !== this.generation || !this.running) return;

    let socket: SocketLike;
    try {
      socket = this.createSocket(url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      const reconnect = this.opened;
      this.opened = true;
      this.setState({ status: 'open', attempt: this.state.attempt, retryAt: null });
      this.stableTimer = setTimeout(() => {
        if (this.socket === socket) this.state = { ...this.state, attempt: 0 };
      }, this.options.stableAfterMs ?? 5_000);
      this.startHeartbeat();
      for (const l of this.openListeners) l({ reconnect });
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      this.alive();
      if (typeof ev.data !== 'string') return;
      let raw: unknown;
      try {
        raw = JSON.parse(ev.data);
      } catch {
        return;
      }
      const parsed = contracts.ServerEvent.safeParse(raw);
      if (!parsed.success) return;
      const e = parsed.data;
      // Logout elsewhere or a stolen refresh token: ask for a ticket now; its refusal signs the tab out.
      if (e.type === 'error' && e.code === 'session_revoked') return this.reconnect();
      for (const l of this.eventListeners) l(e);
    };
    socket.onerror = () => {
      // a close event always follows
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.stopHeartbeat();
      if (!this.running) return;
      if (!this.env.isOnline()) {
        this.setState({ status: 'offline', attempt: 0, retryAt: null });
        return;
      }
      this.scheduleRetry();
    };
  }

  private reconnect(): void {
    this.dropSocket(1000, '');
    void this.connect();
  }

  private scheduleRetry(): void {
    if (!this.running) return;
    if (!this.env.isOnline()) {
      this.setState({ status: 'offline', attempt: 0, retryAt: null });
      return;
    }
    const attempt = this.state.attempt;
    const delay = backoffDelay(attempt, this.options.backoff);
    this.setState({ status: 'waiting', attempt: attempt + 1, retryAt: Date.now() + delay });
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }

  private goOffline(): void {
    if (!this.running) return;
    this.generation++;
    this.clearTimers();
    this.dropSocket(1000, 'offline');
    this.setState({ status: 'offline', attempt: 0, retryAt: null });
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const every = this.options.heartbeatMs ?? limits.heartbeatIntervalMs;
    this.heartbeatTimer = setInterval(() => {
      if (!this.send({ action: 'ping' })) return;
      if (this.pongTimer) return;
      this.pongTimer = setTimeout(() => {
        // nothing came back: the socket is dead even if the browser has not noticed
        this.pongTimer = null;
        const s = this.socket;
        if (!s) return;
        this.socket = null;
        this.stopHeartbeat();
        try {
          s.close(4000, 'heartbeat timeout');
        } catch {
          // already closing
        }
        this.scheduleRetry();
      }, this.options.pongTimeoutMs ?? 15_000);
    }, every);
  }

  private alive(): void {
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.alive();
    if (this.stableTimer) clearTimeout(this.stableTimer);
    this.stableTimer = null;
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopHeartbeat();
  }

  private dropSocket(code: number, reason: string): void {
    const s = this.socket;
    this.socket = null;
    if (!s) return;
    s.onopen = s.onmessage = s.onerror = null;
    s.onclose = null;
    try {
      s.close(code, reason);
    } catch {
      // already closed
    }
  }

  private setState(next: ConnectionState): void {
    this.state = next;
    for (const l of this.stateListeners) l(next);
  }
}
