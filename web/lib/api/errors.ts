import type { ErrorCode } from '@chat/functions/contracts';

/**
 * Codes a client can see: the protocol's own (`ErrorCode`) plus the ones only a client can produce (the
 * network failed, the answer did not match the contract, the session is gone).
 */
export type ClientErrorCode = ErrorCode | 'network' | 'bad_response' | 'signed_out' | 'timeout' | 'offline';

/** The one error type of the web client: every failure (HTTP, WebSocket, local) carries a code to branch on. */
export class ChatError extends Error {
  override readonly name = 'ChatError';
  readonly code: ClientErrorCode | (string & {});
  /** HTTP status when the error came from an HTTP answer, otherwise 0. */
  readonly status: number;

  constructor(
    code: ClientErrorCode | (string & {}),
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 0;
  }
}

/** A sentence for people, never a stack trace. */
export function describeError(e: unknown): string {
  if (e instanceof ChatError) {
    switch (e.code) {
      case 'network':
        return 'Cannot reach the server. Check your connection.';
      case 'offline':
        return 'You are offline.';
      case 'invalid_credentials':
        return 'Wrong username or password.';
      case 'username_taken':
        return 'That username is taken. Try another one.';
      case 'too_many_requests':
      case 'rate_limited':
        return 'Too many attempts. Wait a moment and try again.';
      case 'signed_out':
        return 'Your session ended. Please sign in again.';
      default:
        return e.message || 'Something went wrong.';
    }
  }
  return 'Something went wrong.';
}
