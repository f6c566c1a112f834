import { z } from 'zod';
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

export const Message = z.object({
  id: Ulid,
  conversationId: Id,
  senderId: Id,
  clientMsgId: z.string().min(1).max(limits.clientMsgIdMax),
  body: z.string().min(1).max(limits.messageBodyMaxChars),
  sentAt: IsoTime,
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
});
export type Conversation = z.infer<typeof Conversation>;

export const Receipt = z.object({ userId: Id, lastReadId: Ulid, readAt: IsoTime });
export type Receipt = z.infer<typeof Receipt>;

export const Presence = z.object({ userId: Id, online: z.boolean(), lastSeenAt: IsoTime.nullable() });
export type Presence = z.infer<typeof Presence>;
