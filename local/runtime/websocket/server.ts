/**
 * The API Gateway WebSocket API emulator; its management API (`/@connections/{id}`, `./management.ts`) answers
 * the plain HTTP requests on the same port.
 *
 * - `$connect` runs before the upgrade; the socket is unusable until it returns 2xx (its status otherwise, 502
 *   when it throws, 504 past the integration timeout).
 * - Route selection on `$request.body.action`; `$default`; `{"message": "Forbidden", …}` without `$default`.
 * - A route response (`returnResponse`) sends the result's body; a function error sends
 *   `{"message": "Internal server error", …}` and the connection stays open.
 * - Limits: frame and message size (1009), binary frames (1003), idle timeout and maximum duration (1001).
 * - Frames of one connection are dispatched concurrently by default (AWS gives no ordering guarantee);
 *   `dispatch: 'per-connection'` serializes them.
 */

import { createServer, type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { apiGatewayId } from '../ids.ts';
import type { InvocationResult, LambdaService } from '../lambda/service.ts';
import { Listener, NOT_READY_BODY } from '../listener.ts';
import { type DetailLog, detailOf } from '../logging.ts';
import {
  type ConnectionFacts,
  connectEvent,
  disconnectEvent,
  messageEvent,
  messageEventJson,
  selectionKey,
  type WsApiIdentity,
} from './events.ts';
import { FrameGuard } from './frame-guard.ts';
import {
  gatewayFrame,
  headerOf,
  isValidHandshake,
  routeResponseBody,
  sourceIpOf,
  statusOf,
} from './integration.ts';
import { handleManagementRequest } from './management.ts';

export { routeResponseBody } from './integration.ts';

import type { KnownCredentials } from './sigv4-verify.ts';

export interface WsLimits {
  /** One frame (API Gateway: 32 KB). Over ⇒ close 1009. */
  readonly frameMaxBytes: number;
  /** One message, frames reassembled (API Gateway: 128 KB). Over ⇒ close 1009. */
  readonly messageMaxBytes: number;
  /** No client message for this long ⇒ close 1001 (API Gateway: 10 min). */
  readonly idleTimeoutMs: number;
  /** Connection age ⇒ close 1001 (API Gateway: 2 h). */
  readonly maxDurationMs: number;
  /** API Gateway's integration timeout (29 s). */
  readonly integrationTimeoutMs: number;
  /** PostToConnection payload (131,072 bytes). Over ⇒ 413. */
  readonly postMaxBytes: number;
  /** Bytes queued for a client beyond which PostToConnection answers 429 (the client is not reading). */
  readonly clientBufferLimitBytes: number;
}

export interface WsRouteLike {
  readonly routeKey: string;
  readonly fn: string;
  readonly returnResponse: boolean;
}

export type WsDispatch = 'concurrent' | 'per-connection';

export interface WebSocketApiOptions {
  readonly lambda: LambdaService;
  readonly routes: readonly WsRouteLike[];
  readonly limits: WsLimits;
  readonly api: WsApiIdentity;
  readonly dispatch: WsDispatch;
  readonly log: (source: string, line: string) => void;
  /**
   * `@connections` requests signed with these credentials (the ones the runtime hands its functions) get their
   * SigV4 signature verified; other keys are only checked for being signed.
   */
  readonly verifySignatures?: { readonly credentials: KnownCredentials; readonly region: string };
}

type ConnState = 'connecting' | 'open' | 'closing' | 'closed';

interface Connection extends ConnectionFacts {
  state: ConnState;
  ws: WebSocket | undefined;
  lastActiveAt: number;
  closeInfo: { code: number; reason: string } | undefined;
  /**
   * One timer per connection for both the idle timeout and the maximum duration: armed for the earlier
   * deadline, re-armed when it fires early (a client message moved the idle deadline). A message only stamps
   * `lastActiveAt`; it does not touch the timer.
   */
  timer: NodeJS.Timeout | undefined;
  /** Per-connection dispatch only: the frames' chain. */
  chain: Promise<void> | undefined;
  skipDisconnect?: boolean;
}

const TIMEOUT = Symbol('integration timeout');

const SUBPROTOCOL = Symbol('subprotocol');
type UpgradeRequest = IncomingMessage & { [SUBPROTOCOL]?: string };

export class WebSocketApi {
  readonly server: Server;
  readonly #opts: WebSocketApiOptions;
  readonly #wss: WebSocketServer;
  readonly #connections = new Map<string, Connection>();
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #listener: Listener;
  #closing = false;
  /** CONNECT/DISCONNECT lines, built only when enabled (`../logging.ts`). */
  readonly #detail: DetailLog;

  constructor(opts: WebSocketApiOptions) {
    this.#opts = opts;
    this.#detail = detailOf(opts.log);
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.limits.messageMaxBytes,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (_protocols, req) => (req as UpgradeRequest)[SUBPROTOCOL] ?? false,
    });
    this.server = createServer((req, res) =>
      handleManagementRequest(req, res, {
        stage: opts.api.stage,
        limits: opts.limits,
        verifySignatures: opts.verifySignatures,
        openConnection: (id) => {
          const c = this.#connections.get(id);
          if (c?.state !== 'open' || !c.ws) return undefined;
          const { ws, connectedAt, lastActiveAt, sourceIp, userAgent } = c;
          return { ws, connectedAt, lastActiveAt, sourceIp, userAgent };
        },
        close: (id) => {
          const c = this.#connections.get(id);
          if (c) this.#closeWith(c, 1000, 'Connection Closed Normally');
        },
      }),
    );
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#track(this.#onUpgrade(req, socket as Socket, head));
    });
    this.#listener = new Listener(this.server);
  }

  listen(port: number, host: string): Promise<number> {
    return this.#listener.listen(port, host);
  }

  get port(): number {
    return this.#listener.port;
  }

  /** The runtime can serve: upgrades run `$connect` from now on (503 before). */
  markReady(): void {
    this.#listener.markReady();
  }

  /** The routes this API dispatches to. */
  get routes(): readonly WsRouteLike[] {
    return this.#opts.routes;
  }

  /** Number of open connections. */
  get openConnections(): number {
    let n = 0;
    for (const c of this.#connections.values()) if (c.state === 'open') n += 1;
    return n;
  }

  /** Ids of open connections. */
  connectionIds(): string[] {
    return [...this.#connections.values()].filter((c) => c.state === 'open').map((c) => c.connectionId);
  }

  /**
   * Drops a connection without a close frame (the network went away): 1006. `$disconnect` is best effort on
   * AWS; `sendDisconnect: false` plays the case where it never arrives.
   */
  dropConnection(connectionId: string, opts: { sendDisconnect?: boolean } = {}): boolean {
    const c = this.#connections.get(connectionId);
    if (!c?.ws || c.state !== 'open') return false;
    if (opts.sendDisconnect === false) c.skipDisconnect = true;
    c.ws.terminate();
    return true;
  }

  async close(): Promise<void> {
    this.#closing = true;
    for (const c of this.#connections.values()) {
      if (c.state === 'open') this.#closeWith(c, 1001, 'Going away');
    }
    // Give $disconnect invocations a moment, as a draining API Gateway would.
    const deadline = Date.now() + 5_000;
    while (this.#inflight.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.#inflight]), new Promise((r) => setTimeout(r, 100))]);
    }
    for (const c of this.#connections.values()) c.ws?.terminate();
    this.#wss.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Keeps the promise for a graceful stop; a failure is logged, never an unhandled rejection. */
  #track<T>(p: Promise<T>): void {
    this.#inflight.add(p);
    p.catch((err: unknown) =>
      this.#log(`internal error: ${err instanceof Error ? err.message : String(err)}`),
    ).finally(() => this.#inflight.delete(p));
  }

  #log(line: string): void {
    this.#opts.log('ws', line);
  }

  #logDetail(line: string): void {
    if (this.#detail.enabled) this.#detail('ws', line);
  }

  async #invoke(
    fn: string,
    event: Record<string, unknown> | { json: string; event: () => unknown },
  ): Promise<InvocationResult | typeof TIMEOUT> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMEOUT), this.#opts.limits.integrationTimeoutMs);
    });
    const { lambda } = this.#opts;
    const invocation =
      typeof event.json === 'string'
        ? lambda.invokeJson(fn, event.json, event.event as () => unknown)
        : lambda.invoke(fn, event);
    try {
      return await Promise.race([invocation, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #route(key: string): WsRouteLike | undefined {
    return this.#opts.routes.find((r) => r.routeKey === key);
  }

  // ---------------------------------------------------------------- $connect and the upgrade
  #refuse(
    socket: Socket,
    status: number,
    body: string,
    requestId: string,
    extra: Record<string, string> = {},
  ): void {
    const headers = {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
      'x-amzn-RequestId': requestId,
      'x-amz-apigw-id': requestId,
      Connection: 'close',
      ...extra,
    };
    const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`]
      .concat(Object.entries(headers).map(([k, v]) => `${k}: ${v}`))
      .join('\r\n');
    socket.end(`${head}\r\n\r\n${body}`);
  }

  async #onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    socket.on('error', () => {});
    const requestId = apiGatewayId();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (this.#closing) return this.#refuse(socket, 503, NOT_READY_BODY, requestId);
    if (!this.#listener.ready)
      return this.#refuse(socket, 503, NOT_READY_BODY, requestId, {
        'Retry-After': '1',
      });
    if (path !== '/' && path !== `/${this.#opts.api.stage}`) {
      return this.#refuse(socket, 403, '{"message":"Forbidden"}', requestId, {
        'x-amzn-ErrorType': 'ForbiddenException',
      });
    }
    if (!isValidHandshake(req)) return this.#refuse(socket, 400, '{"message":"Bad Request"}', requestId);

    let connectionId = apiGatewayId();
    while (this.#connections.has(connectionId)) connectionId = apiGatewayId();
    const now = Date.now();
    const ua = req.headers['user-agent'];
    const conn: Connection = {
      connectionId,
      connectedAt: now,
      sourceIp: sourceIpOf(req),
      userAgent: ua,
      domainName: req.headers.host ?? `localhost:${this.#listener.port}`,
      state: 'connecting',
      ws: undefined,
      lastActiveAt: now,
      closeInfo: undefined,
      timer: undefined,
      chain: undefined,
    };
    // Known but not yet connected: PostToConnection answers 410 during $connect, as on AWS.
    this.#connections.set(connectionId, conn);
    const forget = (): void => {
      this.#connections.delete(connectionId);
    };

    const route = this.#route('$connect');
    if (route) {
      const event = connectEvent(
        this.#opts.api,
        conn,
        req,
        url.searchParams,
        this.#listener.port,
        requestId,
        now,
      );
      const res = await this.#invoke(route.fn, event);
      if (socket.destroyed) {
        forget();
        return;
      }
      if (res === TIMEOUT) {
        forget();
        this.#logDetail(`CONNECT ${connectionId} 504 (integration timeout)`);
        return this.#refuse(socket, 504, '{"message": "Endpoint request timed out"}', requestId);
      }
      if (!res.ok) {
        forget();
        this.#logDetail(`CONNECT ${connectionId} 502 (${res.error.errorType})`);
        return this.#refuse(
          socket,
          502,
          gatewayFrame('Internal server error', connectionId, requestId),
          requestId,
        );
      }
      const status = statusOf(res.result);
      if (status < 200 || status > 299) {
        forget();
        this.#logDetail(`CONNECT ${connectionId} ${status}`);
        return this.#refuse(socket, status, routeResponseBody(res.result) ?? '', requestId);
      }
      const proto = headerOf(res.result, 'sec-websocket-protocol');
      if (proto) (req as UpgradeRequest)[SUBPROTOCOL] = proto;
    }
    if (this.#closing) {
      forget();
      return this.#refuse(socket, 503, '{"message":"Service Unavailable"}', requestId);
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onOpen(conn, ws, socket));
  }

  // ---------------------------------------------------------------- an open connection

  #onOpen(conn: Connection, ws: WebSocket, socket: Socket): void {
    conn.ws = ws;
    conn.state = 'open';
    this.#logDetail(`CONNECT ${conn.connectionId} 101`);
    const { limits } = this.#opts;
    const guard = new FrameGuard(limits.frameMaxBytes, () => this.#closeWith(conn, 1009, 'Message too big'));
    // Before ws's own listener, so an oversized frame is refused before its message is dispatched.
    socket.prependListener('data', (chunk: Buffer) => guard.push(chunk));
    this.#armTimer(conn);

    ws.on('message', (data, isBinary) => {
      if (conn.state !== 'open') return;
      if (isBinary) {
        this.#closeWith(conn, 1003, 'Unsupported data');
        return;
      }
      conn.lastActiveAt = Date.now();
      // ws hands over a Buffer (binaryType 'nodebuffer'): decoded once, never copied first.
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.isBuffer(data)
          ? data.toString('utf8')
          : Buffer.from(data).toString('utf8');
      const run = (): Promise<void> => this.#onMessage(conn, text);
      if (this.#opts.dispatch === 'per-connection') {
        conn.chain = (conn.chain ?? Promise.resolve()).then(run, run);
        this.#track(conn.chain);
      } else {
        this.#track(run());
      }
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')
        conn.closeInfo ??= { code: 1009, reason: 'Message too big' };
      else if (err.code === 'WS_ERR_INVALID_UTF8')
        conn.closeInfo ??= { code: 1007, reason: 'Invalid frame payload data' };
      else conn.closeInfo ??= { code: 1002, reason: 'Protocol error' };
      conn.state = 'closing';
      setTimeout(() => ws.terminate(), 1_000).unref();
    });
    ws.on('close', (code, reasonBuf) => this.#onClosed(conn, code, reasonBuf.toString('utf8')));
  }

  /** Arms the connection's timer for its next deadline: idle (since the last client message) or maximum age. */
  #armTimer(conn: Connection): void {
    const { idleTimeoutMs, maxDurationMs } = this.#opts.limits;
    const due = Math.min(conn.lastActiveAt + idleTimeoutMs, conn.connectedAt + maxDurationMs);
    conn.timer = setTimeout(() => this.#onTimer(conn), Math.min(Math.max(0, due - Date.now()), 2 ** 31 - 1));
    conn.timer.unref();
  }

  #onTimer(conn: Connection): void {
    conn.timer = undefined;
    if (conn.state !== 'open') return;
    const { idleTimeoutMs, maxDurationMs } = this.#opts.limits;
    const now = Date.now();
    if (now >= conn.lastActiveAt + idleTimeoutMs || now >= conn.connectedAt + maxDurationMs)
      this.#closeWith(conn, 1001, 'Going away');
    else this.#armTimer(conn);
  }

  #closeWith(conn: Connection, code: number, reason: string): void {
    if (conn.state !== 'open' || !conn.ws) return;
    conn.state = 'closing';
    conn.closeInfo = { code, reason };
    conn.ws.close(code, reason);
    // API Gateway does not wait long for the client's close frame.
    setTimeout(() => conn.ws?.terminate(), 1_000).unref();
  }

  #onClosed(conn: Connection, code: number, reason: string): void {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    clearTimeout(conn.timer);
    this.#connections.delete(conn.connectionId);
    const info =
      conn.closeInfo ??
      (code === 1005
        ? { code, reason: 'Client-side close frame status not set' }
        : code === 1006
          ? { code, reason: 'Connection closed abnormally' }
          : { code, reason });
    this.#logDetail(`DISCONNECT ${conn.connectionId} ${info.code} ${info.reason}`);
    const route = this.#route('$disconnect');
    if (!route || conn.skipDisconnect) return;
    const requestId = apiGatewayId();
    const event = disconnectEvent(this.#opts.api, conn, info.code, info.reason, requestId, Date.now());
    this.#track(this.#opts.lambda.invoke(route.fn, event));
  }

  async #onMessage(conn: Connection, text: string): Promise<void> {
    const requestId = apiGatewayId();
    try {
      await this.#dispatch(conn, text, requestId);
    } catch (err) {
      // A fault of the emulator itself: the client gets API Gateway's own answer and the process lives on.
      this.#log(
        `internal error on ${conn.connectionId}: ${err instanceof Error ? err.message : String(err)}`,
      );
      this.#send(conn, gatewayFrame('Internal server error', conn.connectionId, requestId));
    }
  }

  async #dispatch(conn: Connection, text: string, requestId: string): Promise<void> {
    const key = selectionKey(text);
    const custom = key !== undefined && !key.startsWith('$') ? this.#route(key) : undefined;
    const route = custom ?? this.#route('$default');
    if (!route) {
      this.#send(conn, gatewayFrame('Forbidden', conn.connectionId, requestId));
      return;
    }
    const { api } = this.#opts;
    const messageId = apiGatewayId();
    const now = Date.now();
    // The event as the JSON text the function gets, built once; the object only for invokeStart listeners.
    const res = await this.#invoke(route.fn, {
      json: messageEventJson(api, conn, route.routeKey, text, messageId, requestId, now),
      event: () => messageEvent(api, conn, route.routeKey, text, messageId, requestId, now),
    });
    if (res === TIMEOUT) {
      this.#send(conn, gatewayFrame('Endpoint request timed out', conn.connectionId, requestId));
      return;
    }
    if (!res.ok) {
      this.#send(conn, gatewayFrame('Internal server error', conn.connectionId, requestId));
      return;
    }
    if (route.returnResponse) {
      const body = routeResponseBody(res.result);
      if (body !== undefined && body !== '') this.#send(conn, body);
    }
  }

  #send(conn: Connection, text: string): void {
    if (conn.state === 'open' && conn.ws) conn.ws.send(text);
  }
}
