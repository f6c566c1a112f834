/**
 * The WebSocket API's side of the Lambda proxy integration and of the handshake: what a function's result means
 * to API Gateway (status, subprotocol header, route response body), its own error frame, handshake validity.
 */
import type { IncomingMessage } from 'node:http';

export const sourceIpOf = (req: IncomingMessage): string =>
  (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');

/** The JSON API Gateway sends to a client for a failed route (note its spacing, kept as AWS writes it). */
export const gatewayFrame = (message: string, connectionId: string, requestId: string): string =>
  `{"message": "${message}", "connectionId":"${connectionId}", "requestId":"${requestId}"}`;

/** What a route response sends for a function result (Lambda proxy integration). */
export const routeResponseBody = (result: unknown): string | undefined => {
  if (result === null || result === undefined) return undefined;
  if (typeof result === 'string') return result;
  if (typeof result === 'object' && !Array.isArray(result) && ('statusCode' in result || 'body' in result)) {
    const body = (result as { body?: unknown }).body;
    if (body === undefined || body === null) return undefined;
    return typeof body === 'string' ? body : JSON.stringify(body);
  }
  return JSON.stringify(result);
};

export const statusOf = (result: unknown): number => {
  if (result !== null && typeof result === 'object' && 'statusCode' in result) {
    const s = Number((result as { statusCode: unknown }).statusCode);
    if (Number.isInteger(s) && s >= 100 && s <= 599) return s;
  }
  return 200;
};

export const headerOf = (result: unknown, name: string): string | undefined => {
  if (result === null || typeof result !== 'object' || !('headers' in result)) return undefined;
  const headers = (result as { headers?: Record<string, unknown> }).headers ?? {};
  for (const [k, v] of Object.entries(headers))
    if (k.toLowerCase() === name && v !== undefined) return String(v);
  return undefined;
};

export const isValidHandshake = (req: IncomingMessage): boolean =>
  req.method === 'GET' &&
  (req.headers.upgrade ?? '').toLowerCase() === 'websocket' &&
  /^[+/0-9A-Za-z]{22}==$/.test(req.headers['sec-websocket-key'] ?? '') &&
  (req.headers['sec-websocket-version'] === '13' || req.headers['sec-websocket-version'] === '8');
