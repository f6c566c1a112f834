import type { ErrorCode } from '#contracts/errors.ts';
import { errorCodes } from '#contracts/errors.ts';

/**
 * The one domain error: a protocol error code (contracts/errors.ts) and a human message. Each transport maps
 * it once (HTTP status + `{ error }` body; WebSocket `error` frame). Anything else that escapes a handler is
 * an internal error: logged with its stack, never shown to a client.
 */
export class ChatError extends Error {
  override readonly name = 'ChatError';
  readonly code: ErrorCode;
  /** With `too_many_requests`: seconds until a retry can succeed (HTTP `Retry-After`). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options?: { cause?: unknown; retryAfterSeconds?: number | undefined },
  ) {
    super(message ?? errorCodes[code].message, options);
    this.code = code;
    this.retryAfterSeconds =
      options?.retryAfterSeconds === undefined
        ? undefined
        : Math.max(1, Math.ceil(options.retryAfterSeconds));
  }

  get status(): number {
    return errorCodes[this.code].status;
  }
}

export const isChatError = (e: unknown): e is ChatError => e instanceof ChatError;
