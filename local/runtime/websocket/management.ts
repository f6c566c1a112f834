/**
 * The API Gateway management API (`/@connections/{id}`, optionally under `/<stage>`) on the WebSocket API's
 * port: PostToConnection (413 over `postMaxBytes`, 429 once the client's buffer is over
 * `clientBufferLimitBytes`), GetConnection, DeleteConnection (closes with 1000); 410 `GoneException` for a
 * connection that is not open (also while its `$connect` runs); requests must be SigV4-signed.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { apiGatewayId } from '../ids.ts';
import { type KnownCredentials, verifySigV4 } from './sigv4-verify.ts';

/** An open connection, as the management API sees it. */
export interface ManagedConnection {
  readonly ws: WebSocket;
  readonly connectedAt: number;
  readonly lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
}

export interface ManagementApi {
  readonly stage: string;
  readonly limits: { readonly postMaxBytes: number; readonly clientBufferLimitBytes: number };
  /** Requests signed with these credentials get their signature verified; others only need to be signed. */
  readonly verifySignatures?: { readonly credentials: KnownCredentials; readonly region: string };
  /** The connection if it is open. */
  openConnection(connectionId: string): ManagedConnection | undefined;
  /** DeleteConnection: closes it with 1000. */
  close(connectionId: string): void;
}

/** Answers one plain HTTP request on the WebSocket API's port. */
export function handleManagementRequest(
  req: IncomingMessage,
  res: ServerResponse,
  api: ManagementApi,
): undefined {
  const requestId = apiGatewayId();
  const reply = (status: number, body?: unknown, errorType?: string): undefined => {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(text)),
      'x-amzn-RequestId': requestId,
      ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
    });
    res.end(text);
    // Drain whatever the caller still sends.
    req.resume();
    return undefined;
  };
  const url = new URL(req.url ?? '/', 'http://localhost');
  const m = /^(?:\/[^/]+)?\/@connections\/([^/]+)\/?$/.exec(url.pathname);
  if (!m?.[1]) {
    if (url.pathname === '/' || url.pathname === `/${api.stage}`)
      return reply(426, { message: 'Upgrade Required' });
    return reply(403, { message: 'Forbidden' }, 'ForbiddenException');
  }
  const auth = req.headers.authorization ?? '';
  if (!auth.startsWith('AWS4-HMAC-SHA256 ')) {
    return reply(403, { message: 'Missing Authentication Token' }, 'MissingAuthenticationTokenException');
  }
  let id: string;
  try {
    id = decodeURIComponent(m[1]);
  } catch {
    return reply(403, { message: 'Forbidden' }, 'ForbiddenException');
  }
  const open = api.openConnection(id);
  const gone = (): undefined => reply(410, {}, 'GoneException');
  /** False (and a 403 sent) when a request signed with the runtime's own credentials has a bad signature. */
  const signatureOk = (body: Buffer): boolean => {
    const v = api.verifySignatures;
    if (!v) return true;
    const verdict = verifySigV4(
      { method: req.method ?? '', url: req.url ?? '/', headers: req.headers },
      body,
      v.credentials,
      v.region,
    );
    if (verdict.ok) return true;
    reply(403, { message: verdict.message }, verdict.errorType);
    return false;
  };

  switch (req.method) {
    case 'POST': {
      const max = api.limits.postMaxBytes;
      const chunks: Buffer[] = [];
      let size = 0;
      let tooBig = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > max) tooBig = true;
        else chunks.push(c);
      });
      req.on('end', (): undefined => {
        if (tooBig) return reply(413, { message: 'Request entity too large' }, 'PayloadTooLargeException');
        const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        if (!signatureOk(body)) return undefined;
        const target = api.openConnection(id);
        if (!target) return gone();
        if (target.ws.bufferedAmount > api.limits.clientBufferLimitBytes) {
          return reply(429, { message: 'Rate exceeded' }, 'LimitExceededException');
        }
        // A text frame of the body's bytes, as they came (decoded and re-encoded only when not valid UTF-8).
        if (isUtf8(body)) target.ws.send(body, { binary: false });
        else target.ws.send(body.toString('utf8'));
        return reply(200);
      });
      return;
    }
    case 'GET':
      if (!signatureOk(Buffer.alloc(0))) return undefined;
      if (!open) return gone();
      return reply(200, {
        connectedAt: new Date(open.connectedAt).toISOString(),
        identity:
          open.userAgent === undefined
            ? { sourceIp: open.sourceIp }
            : { sourceIp: open.sourceIp, userAgent: open.userAgent },
        lastActiveAt: new Date(open.lastActiveAt).toISOString(),
      });
    case 'DELETE':
      if (!signatureOk(Buffer.alloc(0))) return undefined;
      if (!open) return gone();
      api.close(id);
      return reply(204);
    default:
      return reply(403, { message: 'Forbidden' }, 'ForbiddenException');
  }
}
