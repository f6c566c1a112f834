import { z } from 'zod';
import { ENV } from './env.ts';
import { limits } from './limits.ts';
import { Emoji, Id, IsoTime, Message, MessageTrace, Ulid } from './models.ts';

/**
 * Records on the messages topic. Key = conversation id, so one conversation's records stay in one partition
 * and in order. `v` versions the record shape.
 */
export const MessageSentRecord = z.object({
  type: z.literal('message.sent'),
  v: z.literal(1),
  /** A sent message has a body or attachments (only a deleted message shows `""` without any). */
  message: Message.refine((m) => m.body.length > 0 || (m.attachments?.length ?? 0) > 0, {
    path: ['body'],
    message: 'message.body: empty without attachments',
  }),
  /** Hop times so far (`received`); optional, so records without it stay valid. */
  trace: MessageTrace.optional(),
});

/**
 * **(added)** Changes to a stored message (edit, delete, reaction), on the same topic and key as the message,
 * so they apply in conversation order (docs/adr/0008-message-changes.md). `changeId` (a ULID) names the change
 * for the fan-out's push markers; `actorId` is who asked: persist re-checks it against the stored row (author
 * only for edit and delete) and the members (reactions). `at`: when the send path accepted it.
 */
const changeFields = {
  v: z.literal(1),
  changeId: Ulid,
  conversationId: Id,
  messageId: Ulid,
  actorId: Id,
  clientMsgId: z.string().min(1).max(limits.clientMsgIdMax),
  at: IsoTime,
};
export const MessageEditedRecord = z.object({
  type: z.literal('message.edited'),
  ...changeFields,
  body: z.string().min(1).max(limits.messageBodyMaxChars),
});
export const MessageDeletedRecord = z.object({ type: z.literal('message.deleted'), ...changeFields });
export const ReactionChangedRecord = z.object({
  type: z.literal('reaction.changed'),
  ...changeFields,
  emoji: Emoji,
  add: z.boolean(),
});

export const ChatRecord = z.discriminatedUnion('type', [
  MessageSentRecord,
  MessageEditedRecord,
  MessageDeletedRecord,
  ReactionChangedRecord,
]);
export type ChatRecord = z.infer<typeof ChatRecord>;
export type MessageSentRecord = z.infer<typeof MessageSentRecord>;
export type MessageEditedRecord = z.infer<typeof MessageEditedRecord>;
export type MessageDeletedRecord = z.infer<typeof MessageDeletedRecord>;
export type ReactionChangedRecord = z.infer<typeof ReactionChangedRecord>;
/** A change to a stored message: every record type but `message.sent`. */
export type ChangeRecord = MessageEditedRecord | MessageDeletedRecord | ReactionChangedRecord;

/** The record's Kafka key: its conversation id (one conversation's records stay in one partition, in order). */
export const recordKey = (r: ChatRecord): string =>
  r.type === 'message.sent' ? r.message.conversationId : r.conversationId;

/**
 * (issue 15) Records on the notifications topic: persistFanout produces one per conversation per batch for
 * the members who had no open connection when the messages were persisted (key = conversation id); the webPush
 * function turns them into Web Push notifications (docs/adr/0010-web-push.md). Small on purpose: the snippet is
 * already cut to `limits.pushSnippetMaxChars`; titles, names, settings and subscriptions are read by webPush.
 */
export const NotificationRecord = z.object({
  type: z.literal('notify.offline'),
  v: z.literal(1),
  conversationId: Id,
  messages: z
    .array(
      z.object({
        id: Ulid,
        senderId: Id,
        snippet: z.string().max(limits.pushSnippetMaxChars),
        mentions: z.array(Id).max(limits.mentionsMax).optional(),
      }),
    )
    .min(1),
  /** Members (not the sender) with no open connection at the push. */
  userIds: z.array(Id).min(1),
});
export type NotificationRecord = z.infer<typeof NotificationRecord>;

/** Records on the dead-letter topic: the original record and why it was refused. */
export const DeadLetterRecord = z.object({
  reason: z.string(),
  source: z.object({ topic: z.string(), partition: z.number(), offset: z.string() }),
  /** The original value, base64, exactly as it arrived. */
  value: z.string().nullable(),
  key: z.string().nullable(),
  failedAt: z.iso.datetime(),
});
export type DeadLetterRecord = z.infer<typeof DeadLetterRecord>;

/**
 * Topic definitions: the local services manager and the CDK topic custom resource both create topics from
 * this list, so local and AWS agree.
 */
export const topics = {
  messages: {
    envVar: ENV.KAFKA_TOPIC_MESSAGES,
    defaultName: 'chat.messages',
    partitions: 12,
    config: { 'retention.ms': String(7 * 24 * 3600 * 1000), 'cleanup.policy': 'delete' },
  },
  notifications: {
    envVar: ENV.KAFKA_TOPIC_NOTIFICATIONS,
    defaultName: 'chat.notifications',
    partitions: 6,
    config: { 'retention.ms': String(24 * 3600 * 1000), 'cleanup.policy': 'delete' },
  },
  deadLetter: {
    envVar: ENV.KAFKA_TOPIC_DLQ,
    defaultName: 'chat.messages.dlq',
    partitions: 1,
    config: { 'retention.ms': String(14 * 24 * 3600 * 1000), 'cleanup.policy': 'delete' },
  },
} as const;
export type TopicId = keyof typeof topics;
