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
