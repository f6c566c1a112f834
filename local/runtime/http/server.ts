/**
 * The API Gateway HTTP API emulator: routes from the route table, payload format 2.0 events, 2.0 response
 * mapping, the API's CORS configuration (preflight answered by the API, CORS headers set by the API), AWS's
 * own error bodies for what API Gateway answers itself (404 unknown route, 413 over 10 MB, 500 function error,
 * 503 integration timeout). Until the runtime calls `markReady()` (its functions deployed, its consumers
 * running) every request but a CORS preflight is answered 503 with `Retry-After: 1`.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { apiGatewayId } from '../ids.ts';
import type { LambdaService } from '../lambda/service.ts';
import { Listener, NOT_READY_BODY } from '../listener.ts';
import { type DetailLog, detailOf } from '../logging.ts';
import {
  type CompiledRoute,
  compileRoute,
  type HttpApiIdentity,
  type HttpRouteLike,
  httpEvent,
  mapResult,
  matchRoute,
} from './events.ts';

/** The HTTP API's CORS configuration (CDK `corsPreflight`). */
export interface CorsConfig {
  readonly allowOrigins: readonly string[];
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSeconds: number;
  readonly allowCredentials: boolean;
}

export interface HttpLimits {
  /** API Gateway HTTP API request payload limit: 10 MB. Over ⇒ 413. */
  readonly bodyMaxBytes: number;
  /** HTTP API integration timeout (30 s). Over ⇒ 503. */
  readonly integrationTimeoutMs: number;
}

export interface HttpApiOptions {
  readonly lambda: LambdaService;
  readonly routes: readonly HttpRouteLike[];
  readonly api: HttpApiIdentity;
  readonly cors: CorsConfig | undefined;
  readonly limits: HttpLimits;
  readonly log: (source: string, line: string) => void;
}

const TIMEOUT = Symbol('integration timeout');

export class HttpApi {
  readonly server: Server;
  readonly #opts: HttpApiOptions;
  readonly #routes: CompiledRoute[];
  /** A route whose path is `$default` catches every request no other route matches (routeKey `$default`). */
  readonly #default: HttpRouteLike | undefined;
  readonly #listener: Listener;
  readonly #detail: DetailLog;

  constructor(opts: HttpApiOptions) {
    this.#opts = opts;
    this.#detail = detailOf(opts.log);
    this.#routes = opts.routes.filter((r) => r.path !== '$default').map(compileRoute);
    this.#default = opts.routes.find((r) => r.path === '$default');
    this.server = createServer((req, res) => {
      this.#handle(req, res).catch((e: unknown) => {
        opts.log('http', `internal emulator error: ${e instanceof Error ? e.stack : String(e)}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"message":"Internal Server Error"}');
      });
    });
    this.#listener = new Listener(this.server);
  }

  /** The routes this API dispatches to. */
  get routes(): readonly HttpRouteLike[] {
    return this.#opts.routes;
  }

  /** The CORS configuration it answers preflights with (undefined: none). */
  get cors(): CorsConfig | undefined {
    return this.#opts.cors;
  }

  listen(port: number, host: string): Promise<number> {
    return this.#listener.listen(port, host);
  }

  get port(): number {
    return this.#listener.port;
  }

  /** The runtime can serve: requests reach the functions from now on (503 before). */
  markReady(): void {
    this.#listener.markReady();
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  #corsHeaders(origin: string | undefined): Record<string, string> {
    const cors = this.#opts.cors;
    if (!cors || !origin) return {};
    const allowed = cors.allowOrigins.includes('*') || cors.allowOrigins.includes(origin);
    if (!allowed) return {};
    return {
      'access-control-allow-origin': cors.allowOrigins.includes('*') && !cors.allowCredentials ? '*' : origin,
      ...(cors.allowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
      ...(cors.exposeHeaders.length > 0
        ? { 'access-control-expose-headers': cors.exposeHeaders.join(',') }
        : {}),
      vary: 'origin',
    };
  }

  #preflight(req: IncomingMessage, res: ServerResponse, requestId: string): void {
    const cors = this.#opts.cors;
    const origin = req.headers.origin;
    const method = String(req.headers['access-control-request-method'] ?? '').toUpperCase();
    const wanted = String(req.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
    const allowedHeaders = new Set(cors?.allowHeaders.map((h) => h.toLowerCase()));
    const ok =
      cors !== undefined &&
      origin !== undefined &&
      (cors.allowOrigins.includes('*') || cors.allowOrigins.includes(origin)) &&
      (cors.allowMethods.includes('*') || cors.allowMethods.includes(method)) &&
      (allowedHeaders.has('*') || wanted.every((h) => allowedHeaders.has(h)));
    const headers: Record<string, string> = { 'apigw-requestid': requestId };
    if (ok && cors) {
      Object.assign(headers, this.#corsHeaders(origin), {
        'access-control-allow-methods': cors.allowMethods.join(','),
        'access-control-allow-headers': cors.allowHeaders.join(','),
        'access-control-max-age': String(cors.maxAgeSeconds),
      });
    }
    res.writeHead(204, headers);
    res.end();
  }

  async #readBody(req: IncomingMessage): Promise<Buffer | undefined> {
    const max = this.#opts.limits.bodyMaxBytes;
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > max) return undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > max) return undefined;
      chunks.push(c);
    }
    return Buffer.concat(chunks);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = apiGatewayId();
    const now = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const path = rawUrl.split('?')[0] ?? '/';
    const origin = req.headers.origin;
    const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'apigw-requestid': requestId,
        ...this.#corsHeaders(origin),
        ...headers,
      });
      res.end(body);
    };
    // One line per request, as an access log: verbose only, but a 5xx prints in every mode.
    const log = (status: number): void => {
      const to = status >= 500 ? this.#opts.log : this.#detail.enabled ? this.#detail : undefined;
      to?.('http', `${method} ${rawUrl} ${status}`);
    };

    if (method === 'OPTIONS' && this.#opts.cors && origin && req.headers['access-control-request-method']) {
      req.resume();
      this.#preflight(req, res, requestId);
      log(204);
      return;
    }
    if (!this.#listener.ready) {
      req.resume();
      send(503, NOT_READY_BODY, { 'retry-after': '1' });
      log(503);
      return;
    }
    const match =
      matchRoute(this.#routes, method, path) ??
      (this.#default
        ? {
            route: { route: this.#default, routeKey: '$default', regex: /^/, params: [], rank: [] },
            pathParameters: {},
          }
        : undefined);
    if (!match) {
      req.resume();
      send(404, '{"message":"Not Found"}');
      log(404);
      return;
    }
    const body = await this.#readBody(req);
    if (body === undefined) {
      req.resume();
      send(413, '{"message":"Request Entity Too Large"}', { connection: 'close' });
      log(413);
      return;
    }
    const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const event = httpEvent(this.#opts.api, {
      req,
      routeKey: match.route.routeKey,
      pathParameters: match.pathParameters,
      body,
      sourceIp,
      localPort: this.#listener.port,
      requestId,
      now,
    });
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      this.#opts.lambda.invoke(match.route.route.fn, event),
      new Promise<typeof TIMEOUT>((r) => {
        timer = setTimeout(() => r(TIMEOUT), this.#opts.limits.integrationTimeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (result === TIMEOUT) {
      send(503, '{"message":"Service Unavailable"}');
      log(503);
      return;
    }
    if (!result.ok) {
      send(500, '{"message":"Internal Server Error"}');
      log(500);
      return;
    }
    const mapped = mapResult(result.result);
    if (!mapped) {
      send(500, '{"message":"Internal Server Error"}');
      log(500);
      return;
    }
    const headers: Record<string, string | string[]> = { ...mapped.headers };
    if (this.#opts.cors) {
      // With CORS configured on the API, API Gateway ignores the integration's CORS headers.
      for (const k of Object.keys(headers)) if (k.startsWith('access-control-')) delete headers[k];
      Object.assign(headers, this.#corsHeaders(origin));
    }
    if (mapped.cookies.length > 0) headers['set-cookie'] = [...mapped.cookies];
    headers['content-length'] = String(mapped.body.length);
    headers['apigw-requestid'] = requestId;
    res.writeHead(mapped.statusCode, headers);
    res.end(method === 'HEAD' ? undefined : mapped.body);
    log(mapped.statusCode);
  }
}
