/**
 * A lean client of the API Gateway management API (`POST|DELETE {endpoint}/@connections/{id}`), SigV4
 * signed (service `execute-api`) with node:crypto over keep-alive sockets.
 *
 * Why not `@aws-sdk/client-apigatewaymanagementapi`: pushing is the hot path of the fan-out (one request per
 * message per connection), and the SDK's middleware stack, signer and HTTP handler cost several times the CPU
 * of the request itself (measured: about a third of `persistFanout`'s CPU went to the SDK). This client signs
 * exactly what the SDK signs (the same canonical request, checked against `@smithy/signature-v4` in
 * management-api.test.ts), caches the derived signing key per day, and reuses sockets.
 */
import { createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import {
  type AwsCredentials,
  type CredentialsProvider,
  defaultCredentials,
  hmac,
  rfc3986,
  sha256Hex,
} from './aws-sigv4.ts';

/** A failed management API call: `name` as the SDK names it (GoneException, LimitExceededException, …). */
export class ManagementApiError extends Error {
  constructor(
    override readonly name: string,
    readonly statusCode: number | undefined,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
  /** The SDK's shape, so callers can treat both alike. */
  get $metadata(): { httpStatusCode?: number } {
    return this.statusCode === undefined ? {} : { httpStatusCode: this.statusCode };
  }
}

const SERVICE = 'execute-api';
const ALGORITHM = 'AWS4-HMAC-SHA256';

/** The signer's canonical path: each segment of the (already escaped) request path escaped again. */
const canonicalPath = (path: string): string => {
  const segments: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  const joined = segments.map(rfc3986).join('/');
  return `/${joined}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
};

let keyCache: { id: string; key: Buffer } | undefined;
const signingKey = (secret: string, day: string, region: string): Buffer => {
  const id = `${secret}\u0000${day}\u0000${region}`;
  if (keyCache?.id !== id) {
    keyCache = { id, key: hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), SERVICE), 'aws4_request') };
  }
  return keyCache.key;
};

/**
 * SigV4 headers for a request (pure). Signs `host`, `x-amz-date`, `x-amz-security-token` when there is a session
 * token, and every header passed in (lower-case names); the payload hash is SHA-256 of the body.
 */
export function signRequest(opts: {
  readonly method: string;
  /** host[:port] as sent in the Host header. */
  readonly host: string;
  /** The request path, already escaped. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  readonly region: string;
  readonly credentials: AwsCredentials;
  readonly date: Date;
}): Record<string, string> {
  const amzDate = opts.date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    ...opts.headers,
    host: opts.host,
    'x-amz-date': amzDate,
    ...(opts.credentials.sessionToken ? { 'x-amz-security-token': opts.credentials.sessionToken } : {}),
  };
  const names = Object.keys(headers)
    .map((n) => n.toLowerCase())
    .sort();
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v.trim().replace(/\s+/g, ' ');
  const signedHeaders = names.join(';');
  const canonical = [
    opts.method,
    canonicalPath(opts.path),
    '',
    names.map((n) => `${n}:${lower[n]}\n`).join(''),
    signedHeaders,
    sha256Hex(opts.body ?? ''),
  ].join('\n');
  const scope = `${day}/${opts.region}/${SERVICE}/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
  const signature = createHmac('sha256', signingKey(opts.credentials.secretAccessKey, day, opts.region))
    .update(stringToSign)
    .digest('hex');
  return {
    ...headers,
    authorization: `${ALGORITHM} Credential=${opts.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

export interface ManagementApiOptions {
  /** `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}` (or the local emulator's URL). */
  readonly endpoint: string;
  readonly region: string;
  readonly credentials?: CredentialsProvider;
  /** Socket connect limit (ms). */
  readonly connectTimeoutMs?: number;
  /** Whole-request limit (ms). */
  readonly requestTimeoutMs?: number;
  /** Parallel sockets per client. */
  readonly maxSockets?: number;
}

export interface CallOptions {
  /** Aborts the call (e.g. the push layer's deadline); it then rejects with the abort error. */
  readonly signal?: AbortSignal;
}

interface Response {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

const ERROR_NAMES: Record<number, string> = {
  400: 'BadRequestException',
  403: 'ForbiddenException',
  410: 'GoneException',
  413: 'PayloadTooLargeException',
  429: 'LimitExceededException',
};

export class ManagementApiClient {
  readonly #url: URL;
  readonly #opts: ManagementApiOptions;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;
  readonly #credentials: CredentialsProvider;

  constructor(opts: ManagementApiOptions) {
    this.#opts = opts;
    this.#url = new URL(opts.endpoint);
    const secure = this.#url.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets ?? 64 };
    this.#agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.#request = (secure ? httpsRequest : httpRequest) as typeof httpRequest;
    this.#credentials = opts.credentials ?? defaultCredentials;
  }

  /**
   * PostToConnection, one attempt (retries are the push layer's: push-policy.ts). Rejects with
   * ManagementApiError (410 GoneException, 429 LimitExceededException, 5xx, a timeout or network error with
   * its code, an abort by `signal`).
   */
  async postToConnection(connectionId: string, data: Buffer, options: CallOptions = {}): Promise<void> {
    await this.#call('POST', connectionId, data, options.signal);
  }

  /** DeleteConnection (the server closes the socket), one attempt. */
  async deleteConnection(connectionId: string, options: CallOptions = {}): Promise<void> {
    await this.#call('DELETE', connectionId, undefined, options.signal);
  }

  destroy(): void {
    this.#agent.destroy();
  }

  async #call(method: string, connectionId: string, body?: Buffer, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await this.#once(method, connectionId, body, signal);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new ManagementApiError(err.name || 'Error', undefined, err.message, err.code);
    }
    if (res.status >= 200 && res.status < 300) return res;
    throw toError(res);
  }

  async #once(method: string, connectionId: string, body?: Buffer, signal?: AbortSignal): Promise<Response> {
    const base = this.#url.pathname.replace(/\/+$/, '');
    const path = `${base}/@connections/${rfc3986(connectionId)}`;
    const headers = signRequest({
      method,
      host: this.#url.host,
      path,
      headers: body ? { 'content-type': 'application/octet-stream' } : {},
      ...(body ? { body } : {}),
      region: this.#opts.region,
      credentials: await this.#credentials(),
      date: new Date(),
    });
    if (body) headers['content-length'] = String(body.length);
    const requestTimeout = this.#opts.requestTimeoutMs ?? 5_000;
    const connectTimeout = this.#opts.connectTimeoutMs ?? 2_000;
    return new Promise<Response>((resolve, reject) => {
      // The limits start when a socket is assigned (as the SDK's do): a request queued behind the agent's
      // busy sockets under a burst must not time out, and be dropped, before it was ever sent.
      let timer: NodeJS.Timeout | undefined;
      const fail = (error: Error): void => {
        clearTimeout(timer);
        reject(error);
      };
      const req = this.#request(
        {
          protocol: this.#url.protocol,
          hostname: this.#url.hostname,
          port: this.#url.port || undefined,
          method,
          path,
          headers,
          agent: this.#agent,
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          });
          res.on('error', fail);
        },
      );
      const timeout = (what: string, ms: number) => () =>
        req.destroy(
          Object.assign(new Error(`${method} @connections: ${what} timed out after ${ms} ms`), {
            name: 'TimeoutError',
            code: 'ETIMEDOUT',
          }),
        );
      req.on('socket', (socket) => {
        if (socket.connecting) {
          timer = setTimeout(timeout('connect', connectTimeout), connectTimeout);
          socket.once('connect', () => {
            clearTimeout(timer);
            timer = setTimeout(timeout('request', requestTimeout), requestTimeout);
          });
        } else {
          timer = setTimeout(timeout('request', requestTimeout), requestTimeout);
        }
      });
      req.on('error', fail);
      req.end(body);
    });
  }
}

function toError(res: Response): ManagementApiError {
  const type = String(res.headers['x-amzn-errortype'] ?? '').split(':')[0];
  let message = '';
  try {
    const parsed = JSON.parse(res.body.toString('utf8')) as { message?: string; Message?: string };
    message = parsed.message ?? parsed.Message ?? '';
  } catch {
    message = res.body.toString('utf8').slice(0, 200);
  }
  const name =
    type || ERROR_NAMES[res.status] || (res.status >= 500 ? 'InternalServerError' : `Http${res.status}`);
  return new ManagementApiError(name, res.status, message || `${name} (${res.status})`);
}
