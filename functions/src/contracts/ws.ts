import { z } from 'zod';
import { limits } from './limits.ts';
import { Conversation, Id, IsoTime, Message, MessageTrace, Ulid } from './models.ts';

// ── Client → server frames (route selection: `$request.body.action`) ──────────────────────────────────────

export const SendMessageFrame = z.object({
  action: z.literal('sendMessage'),
  conversationId: Id,
  clientMsgId: z.string().min(1).max(limits.clientMsgIdMax),
  /** Length is checked by the handler so that an over-long body gets its own `body_too_long` code. */
  body: z.string(),
  /** Attachments uploaded by the sender for this conversation; count and ownership checked by the handler. */
  attachmentIds: z.array(Ulid).optional(),
});
export const TypingFrame = z.object({
  action: z.literal('typing'),
  conversationId: Id,
  state: z.enum(['start', 'stop']),
});
export const MarkReadFrame = z.object({ action: z.literal('markRead'), conversationId: Id, messageId: Ulid });
export const PingFrame = z.object({ action: z.literal('ping') });

export const ClientFrame = z.discriminatedUnion('action', [
  SendMessageFrame,
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
