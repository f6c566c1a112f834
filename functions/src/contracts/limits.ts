/** Limits of the public protocol (docs/protocol.md) and of API Gateway (docs/local-runtime.md), in one place. */
export const limits = {
  /** Markdown body of one message, in characters. */
  messageBodyMaxChars: 4_000,
  /** API Gateway WebSocket: one frame. Over ⇒ close 1009. */
  wsFrameMaxBytes: 32 * 1024,
  /** API Gateway WebSocket: one message (frames reassembled), and PostToConnection payload. */
  wsMessageMaxBytes: 128 * 1024,
  /** API Gateway WebSocket: idle timeout (close 1001). */
  wsIdleTimeoutMs: 10 * 60 * 1000,
  /** API Gateway WebSocket: maximum connection duration (close 1001). */
  wsMaxDurationMs: 2 * 60 * 60 * 1000,
  /** HTTP request body accepted by the HTTP API handlers. Over ⇒ 413. */
  httpBodyMaxBytes: 64 * 1024,
  /** History page size cap. */
  historyPageMax: 100,
  historyPageDefault: 50,
  /** Group size cap (members, creator included). */
  groupMaxMembers: 1_000,
  groupTitleMaxChars: 100,
  /** Client frames per second per connection before `rate_limited` errors. */
  wsFramesPerSecond: 20,
  /** Typing frames per conversation per connection per second that are forwarded. */
  typingPerSecond: 2,
  /** Presence: a connection lives this long after its last frame unless refreshed. */
  connectionTtlSeconds: 15 * 60,
  /** The client heartbeat interval the web client uses. */
  heartbeatIntervalMs: 60_000,
  /** One-time WebSocket ticket lifetime. */
  wsTicketTtlSeconds: 30,
  usernameMin: 3,
  usernameMax: 32,
  passwordMin: 8,
  passwordMax: 128,
  displayNameMax: 64,
  clientMsgIdMax: 64,
} as const;

/**
 * Per-person budgets (docs/protocol.md, "Limits per person"): `count` per fixed window of `windowSeconds`,
 * counted in Redis per subject (a user id or a client IP). Over ⇒ HTTP 429 `too_many_requests` with
 * `Retry-After` (seconds until the window ends). These are the defaults, as deployed on AWS; the `RATE_LIMITS`
 * environment variable overrides any of them (`name=count/windowSeconds,…`), which the local runtime does for
 * the per-IP ones (every local client is 127.0.0.1) and the benchmark for what thousands of users need.
 */
export const rateLimitDefaults = {
  /** Sign-ups per client IP (each costs a scrypt hash). */
  signupPerIp: { count: 20, windowSeconds: 3600 },
  /** Failed logins per client IP, any usernames (password spraying). */
  loginFailuresPerIp: { count: 100, windowSeconds: 900 },
  /** Login attempts per client IP, successful or not (each costs a scrypt hash). */
  loginPerIp: { count: 300, windowSeconds: 900 },
  /** WebSocket tickets per user. */
  wsTicketPerUser: { count: 30, windowSeconds: 60 },
  /** Groups created per user. */
  groupCreatePerUser: { count: 30, windowSeconds: 3600 },
  /** Members added per user (by group creation or POST /conversations/{id}/members, each member counts). */
  memberAddsPerUser: { count: 500, windowSeconds: 3600 },
  /** Authenticated HTTP requests per user, any route. */
  httpPerUser: { count: 600, windowSeconds: 60 },
} as const satisfies Record<string, { count: number; windowSeconds: number }>;

export type RateLimitName = keyof typeof rateLimitDefaults;

/**
 * Failed logins per (username, client IP) pair: the first `freeFailures` cost nothing, then each further failure
 * makes the pair wait before its next attempt, doubling from `firstDelaySeconds` up to `maxDelaySeconds`. A
 * success clears the pair; a pair left alone for `resetAfterSeconds` starts over. Nobody else is slowed down: the
 * same username from another IP is a different pair (a stranger cannot lock a victim out).
 */
export const loginBackoff = {
  freeFailures: 5,
  firstDelaySeconds: 2,
  maxDelaySeconds: 300,
  resetAfterSeconds: 24 * 3600,
} as const;

/** Open WebSocket connections per user; `$connect` beyond it is refused with HTTP 429 (the upgrade fails). */
export const connectionsPerUserDefault = 10;
