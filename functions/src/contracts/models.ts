import { z } from 'zod';
import { EMOJI_MAX_UNITS, isSingleEmoji } from './emoji.ts';
import { limits } from './limits.ts';

/** Time-ordered id (ULID, 26 Crockford base32 characters): sorting ids sorts by creation time. */
export const Ulid = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'expected a ULID');
export const Id = z.string().min(1).max(64);
export const IsoTime = z.iso.datetime();

export const Username = z
  .string()
  .min(limits.usernameMin)
  .max(limits.usernameMax)
  .regex(/^[a-z0-9_]+$/, 'lower-case letters, digits and _ only');
export const Password = z.string().min(limits.passwordMin).max(limits.passwordMax);
export const DisplayName = z.string().trim().min(1).max(limits.displayNameMax);

export const User = z.object({ id: Id, username: Username, displayName: z.string() });
export type User = z.infer<typeof User>;

/**
 * A file attached to a message (docs/protocol.md, "Attachments"). `url` is a presigned download URL valid
 * `limits.attachmentDownloadUrlTtlSeconds`, signed when the message is served (live or history): every served
 * message has it; the Kafka record and the stored row carry the metadata only.
 */
export const Attachment = z.object({
  id: Ulid,
  filename: z.string(),
  contentType: z.string(),
  size: z.number().int().positive(),
  url: z.string().optional(),
});
export type Attachment = z.infer<typeof Attachment>;

/** Exactly one emoji (contracts/emoji.ts). */
export const Emoji = z.string().max(EMOJI_MAX_UNITS).refine(isSingleEmoji, 'expected exactly one emoji');

/** The message a reply answers, as it is now: `snippet` is empty when the original was deleted. */
export const ReplyRef = z.object({
  id: Ulid,
  senderId: Id,
  snippet: z.string().max(limits.replySnippetMaxChars),
});
export type ReplyRef = z.infer<typeof ReplyRef>;

/** One emoji's reactions on a message: `count` users, the first `limits.reactionUsersListed` of them listed. */
export const Reaction = z.object({
  emoji: Emoji,
  count: z.number().int().positive(),
  userIds: z.array(Id).max(limits.reactionUsersListed),
});
export type Reaction = z.infer<typeof Reaction>;

export const Message = z
  .object({
    id: Ulid,
    conversationId: Id,
    senderId: Id,
    clientMsgId: z.string().min(1).max(limits.clientMsgIdMax),
    /**
     * Up to 4,000 characters; `""` when the message was deleted (`deletedAt`), or when it has attachments.
     */
    body: z.string().max(limits.messageBodyMaxChars),
    sentAt: IsoTime,
    /** The last edit (absent if never edited, and on a deleted message). */
    editedAt: IsoTime.optional(),
    /** Deleted: the message keeps its id, sender and place, with `body: ""`, no reactions and no attachments. */
    deletedAt: IsoTime.optional(),
    /** The message this one answers (absent when it is no reply). */
    replyTo: ReplyRef.optional(),
    /** Reactions, in the order each emoji was first used; absent when there are none. */
    reactions: z.array(Reaction).max(limits.reactionEmojiPerMessageMax).optional(),
    /** Absent when the message has none (and on a deleted message). */
    attachments: z.array(Attachment).min(1).max(limits.attachmentsPerMessageMax).optional(),
    /**
     * (added, issue 15) Ids of the members `@username`-mentioned in the body, computed by the server when the
     * message is sent (never taken from a client); absent when nobody is mentioned.
     */
    mentions: z.array(Id).max(limits.mentionsMax).optional(),
  })
  .refine((m) => m.body.length > 0 || m.deletedAt !== undefined || (m.attachments?.length ?? 0) > 0, {
    path: ['body'],
    message: 'message.body: empty without attachments (and not deleted)',
  });
export type Message = z.infer<typeof Message>;

/**
 * Per-hop times of one message on its way (milliseconds since the epoch, each stamped where the hop happens; hops on different machines compare clocks):
 * `received` the send frame reached sendMessage, `produced` the Kafka record's timestamp (set by the producer
 * when it sent the record), `fetched` the Kafka batch holding it reached persistFanout, `persisted` its row was written, `pushed` the push to the
 * recipients started. Carried on the Kafka record and on the live `message` event only, never stored; the
 * client adds its own receive time. See docs/protocol.md, "Latency trace".
 */
export const MessageTrace = z.object({
  received: z.number().optional(),
  produced: z.number().optional(),
  fetched: z.number().optional(),
  persisted: z.number().optional(),
  pushed: z.number().optional(),
});
export type MessageTrace = z.infer<typeof MessageTrace>;

export const ConversationType = z.enum(['dm', 'group']);
export type ConversationType = z.infer<typeof ConversationType>;

export const Conversation = z.object({
  id: Id,
  type: ConversationType,
  /** Group title; for a DM, null (clients show the peer's display name). */
  title: z.string().nullable(),
  /**
   * Every member of a DM; for a group the first `limits.conversationMembersInline` in member-list order (the
   * order of GET /conversations/{id}/members). `memberCount` counts them all.
   */
  members: z.array(User),
  memberCount: z.number().int().nonnegative(),
  lastMessage: Message.nullable(),
  unreadCount: z.number().int().nonnegative(),
  lastReadId: Ulid.nullable(),
  updatedAt: IsoTime,
  /**
   * (added, issue 15) The requesting user muted this conversation (per user): no Web Push but for mentions of
   * them; unread still counts. The server always sets it; optional only so older payloads still parse.
   */
  muted: z.boolean().optional(),
});
export type Conversation = z.infer<typeof Conversation>;

export const Receipt = z.object({ userId: Id, lastReadId: Ulid, readAt: IsoTime });
export type Receipt = z.infer<typeof Receipt>;

export const Presence = z.object({ userId: Id, online: z.boolean(), lastSeenAt: IsoTime.nullable() });
export type Presence = z.infer<typeof Presence>;
