/**
 * Error codes of the public protocol. WebSocket `error` frames carry one in `code`; HTTP errors carry one in
 * `error.code` with the status given here. Each code means one thing, so clients can branch on it.
 */
export const errorCodes = {
  // WebSocket frame errors (the connection stays open)
  invalid_json: { status: 400, message: 'The frame is not valid JSON.' },
  unknown_action: { status: 400, message: 'Unknown action.' },
  invalid_frame: { status: 400, message: 'A field is missing or invalid.' },
  body_too_long: { status: 400, message: 'The message body is too long.' },
  body_empty: { status: 400, message: 'The message body is empty.' },
  not_member: { status: 404, message: 'No such conversation.' },
  invalid_attachment: {
    status: 400,
    message: 'An attachment is unknown, not yours, of another conversation, not uploaded, or already used.',
  },
  too_many_attachments: { status: 400, message: 'Too many attachments on one message.' },
  too_many_reactions: {
    status: 400,
    message: 'This message already has the most distinct reactions allowed.',
  },
  rate_limited: { status: 429, message: 'Too many frames; slow down.' },
  session_revoked: { status: 401, message: 'This session was signed out; sign in again.' },
  // HTTP errors
  validation_failed: { status: 400, message: 'The request is invalid.' },
  invalid_json_body: { status: 400, message: 'The request body is not valid JSON.' },
  unauthorized: { status: 401, message: 'Missing, invalid or expired credentials.' },
  invalid_credentials: { status: 401, message: 'Wrong username or password.' },
  invalid_refresh_token: { status: 401, message: 'The refresh token is invalid, expired or revoked.' },
  forbidden: { status: 403, message: 'You are not allowed to do that.' },
  not_found: { status: 404, message: 'Not found.' },
  route_not_found: { status: 404, message: 'No such route.' },
  username_taken: { status: 409, message: 'That username is taken.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  too_many_requests: { status: 429, message: 'Too many attempts; try again later.' },
  internal: { status: 500, message: 'Something went wrong on our side.' },
  unavailable: { status: 503, message: 'A backing service is unavailable; try again.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCodes;

/** Body of every HTTP error response. */
export interface HttpErrorBody {
  error: { code: ErrorCode; message: string };
}
