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
  /**
   * Group size cap (members, creator included). Every message fans out to every member's connections, so the
   * cap bounds the push amplification of one send (docs/adr/0012-group-consent-and-paging.md).
   */
  groupMaxMembers: 256,
  /** A `conversation` carries at most this many members inline (all of a DM); the rest are paged. */
  conversationMembersInline: 10,
  /** GET /conversations page size (default, cap). */
  conversationsPageDefault: 50,
  conversationsPageMax: 100,
  /** GET /conversations/{id}/members page size (default, cap: one page can hold a whole group). */
  membersPageDefault: 100,
  membersPageMax: 256,
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
  /** One attachment: 25 MiB (26,214,400 bytes). */
  attachmentMaxBytes: 25 * 1024 * 1024,
  /** Attachments per message. */
  attachmentsPerMessageMax: 10,
  attachmentFilenameMaxChars: 255,
  /** How long a presigned upload URL works. */
  attachmentUploadUrlTtlSeconds: 15 * 60,
  /** How long a presigned download URL (`message.attachments[].url`) works. */
  attachmentDownloadUrlTtlSeconds: 5 * 60,
  /** An uploaded attachment no message references within this time is deleted. */
  attachmentPendingTtlSeconds: 24 * 3600,
  /** Distinct reaction emoji on one message (a 21st is refused: `too_many_reactions`). */
  reactionEmojiPerMessageMax: 20,
  /** `reactions[].userIds` lists at most this many users (the first to react); `count` is exact. */
  reactionUsersListed: 20,
  /** `replyTo.snippet`: the first characters of the original message as it is now. */
  replySnippetMaxChars: 100,
  /** Mentions recorded on one message (distinct members). */
  mentionsMax: 50,
  /** Web Push: subscriptions (devices) one user may register; registering one more forgets the oldest. */
  pushSubscriptionsPerUser: 10,
  /** Web Push: a subscription endpoint URL, in characters. */
  pushEndpointMaxChars: 2_048,
  /** Web Push: characters of the message body in a notification's snippet (the payload stays under 4 KB). */
  pushSnippetMaxChars: 200,
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
