import { z } from 'zod';
import { limits } from './limits.ts';
import { Conversation, Emoji, Id, IsoTime, Message, MessageTrace, Ulid } from './models.ts';

// ── Client → server frames (route selection: `$request.body.action`) ──────────────────────────────────────

export const SendMessageFrame = z.object({
  action: z.literal('sendMessage'),
  conversationId: Id,
  clientMsgId: z.string().min(1).max(limits.clientMsgIdMax),
  /** Length is checked by the handler so that an over-long body gets its own `body_too_long` code. */
  body: z.string(),
  /** Attachments uploaded by the sender for this conversation; count and ownership checked by the handler. */
  attachmentIds: z.array(Ulid).optional(),
  /** **(added)** The id of a message of the same conversation this one answers (unknown ⇒ `not_found`). */
  replyTo: Ulid.optional(),
});
/** **(added)** The author edits their message (body rules as for `sendMessage`). */
export const EditMessageFrame = z.object({
  action: z.literal('editMessage'),
  conversationId: Id,
  messageId: Ulid,
  clientMsgId: z.string().min(1).max(limits.clientMsgIdMax),
  body: z.string(),
});
/** **(added)** The author deletes their message (terminal: a deleted message is never edited again). */
export const DeleteMessageFrame = z.object({
  action: z.literal('deleteMessage'),
  conversationId: Id,
  messageId: Ulid,
  clientMsgId: z.string().min(1).max(limits.clientMsgIdMax),
});
/** **(added)** Any member adds (`add: true`) or removes their reaction with one emoji. */
export const ReactFrame = z.object({
  action: z.literal('react'),
  conversationId: Id,
  messageId: Ulid,
  clientMsgId: z.string().min(1).max(limits.clientMsgIdMax),
  emoji: Emoji,
  add: z.boolean(),
});
/** The frames of the `wsChangeMessage` function (one Lambda for the three routes). */
export const ChangeMessageFrame = z.discriminatedUnion('action', [
  EditMessageFrame,
  DeleteMessageFrame,
  ReactFrame,
]);
export type ChangeMessageFrame = z.infer<typeof ChangeMessageFrame>;
export const TypingFrame = z.object({
  action: z.literal('typing'),
  conversationId: Id,
  state: z.enum(['start', 'stop']),
});
export const MarkReadFrame = z.object({ action: z.literal('markRead'), conversationId: Id, messageId: Ulid });
export const PingFrame = z.object({ action: z.literal('ping') });

export const ClientFrame = z.discriminatedUnion('action', [
  SendMessageFrame,
  EditMessageFrame,
  DeleteMessageFrame,
  ReactFrame,
  TypingFrame,
  MarkReadFrame,
  PingFrame,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

// ── Server → client events ────────────────────────────────────────────────────────────────────────────────

export const AckEvent = z.object({
  type: z.literal('ack'),
  clientMsgId: z.string(),
  messageId: Ulid,
  conversationId: Id,
});
export const MessageEvent = z.object({
  type: z.literal('message'),
  message: Message,
  /** The message's hop times up to its push (live delivery only; history never has it). */
  trace: MessageTrace.optional(),
});
/** **(added)** A message was edited or deleted: the whole message as it now is. */
export const MessageUpdatedEvent = z.object({ type: z.literal('messageUpdated'), message: Message });
/** **(added)** A member added or removed their reaction. Clients apply it as a set operation (idempotent). */
export const ReactionEvent = z.object({
  type: z.literal('reaction'),
  conversationId: Id,
  messageId: Ulid,
  userId: Id,
  emoji: Emoji,
  add: z.boolean(),
});
export const ReceiptEvent = z.object({
  type: z.literal('receipt'),
  conversationId: Id,
  userId: Id,
  lastReadId: Ulid,
  readAt: IsoTime,
});
export const TypingEvent = z.object({
  type: z.literal('typing'),
  conversationId: Id,
  userId: Id,
  state: z.enum(['start', 'stop']),
});
export const PresenceEvent = z.object({
  type: z.literal('presence'),
  userId: Id,
  online: z.boolean(),
  lastSeenAt: IsoTime.nullable(),
});
export const ConversationEvent = z.object({ type: z.literal('conversation'), conversation: Conversation });
export const PongEvent = z.object({ type: z.literal('pong') });
export const ErrorEvent = z.object({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  action: z.string().optional(),
  clientMsgId: z.string().optional(),
});

export const ServerEvent = z.discriminatedUnion('type', [
  AckEvent,
  MessageEvent,
  MessageUpdatedEvent,
  ReactionEvent,
  ReceiptEvent,
  TypingEvent,
  PresenceEvent,
  ConversationEvent,
  PongEvent,
  ErrorEvent,
]);
export type ServerEvent = z.infer<typeof ServerEvent>;
export type AckEvent = z.infer<typeof AckEvent>;
export type MessageEvent = z.infer<typeof MessageEvent>;
export type MessageUpdatedEvent = z.infer<typeof MessageUpdatedEvent>;
export type ReactionEvent = z.infer<typeof ReactionEvent>;
export type EditMessageFrame = z.infer<typeof EditMessageFrame>;
export type DeleteMessageFrame = z.infer<typeof DeleteMessageFrame>;
export type ReactFrame = z.infer<typeof ReactFrame>;
export type ReceiptEvent = z.infer<typeof ReceiptEvent>;
export type TypingEvent = z.infer<typeof TypingEvent>;
export type PresenceEvent = z.infer<typeof PresenceEvent>;
export type ConversationEvent = z.infer<typeof ConversationEvent>;
export type ErrorEvent = z.infer<typeof ErrorEvent>;

/** WebSocket close codes the runtime uses (API Gateway's). */
export const closeCodes = {
  goingAway: 1001,
  unsupportedData: 1003,
  messageTooBig: 1009,
} as const;
