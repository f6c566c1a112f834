import type { ChangeRecord, ChatRecord, NotificationRecord } from '#contracts/kafka.ts';
import type { Message, MessageTrace } from '#contracts/models.ts';
import type { ServerEvent } from '#contracts/ws.ts';
import type { AttachmentPorts } from './attachments.ts';

/**
 * What the realtime core needs from the world. The core (messaging.ts, presence.ts) is pure: it calls these
 * ports and nothing else; `adapters/realtime.ts` wires them to Redis, Kafka, the CQL store and the management
 * API, and unit tests wire fakes.
 */

export interface ConnectionRef {
  readonly connectionId: string;
  readonly userId: string;
}

/** A connection removed from the registry by the caller. */
export interface RemovedConnection extends ConnectionRef {
  /** The user has no live connection left: they went offline. */
  readonly lastConnection: boolean;
  /** Epoch ms of the connection's last frame (its expiry minus the TTL). */
  readonly lastActiveAt: number;
}

export interface PushResult {
  readonly delivered: number;
  readonly failed: number;
  /** Connections found gone (410) and removed from the registry. */
  readonly gone: readonly RemovedConnection[];
  /**
   * (issue 15) The users among those pushed to who had no open connection (pushToUsers only): they get a Web
   * Push notification instead.
   */
  readonly offline?: readonly string[];
}

/** A message as stored: with its per-conversation sequence number. */
export interface StoredMessage {
  readonly message: Message;
  readonly seq: number;
  /** false: the row already existed (a Kafka redelivery); it kept its seq. */
  readonly isNew: boolean;
  /** The store's write time of the row (opaque to the core; the store orders read pointer writes by it). */
  readonly writeTime?: bigint;
}

/**
 * A message as the Kafka consumer received it: where it sits in the log (partition, offset: persist recognizes
 * a redelivery by offset, docs/adr/0006-persist-without-paxos.md), the record's timestamp and the hop times the
 * send side stamped. Without a position, persist reads the store to recognize redeliveries.
 */
export interface InboundMessage {
  readonly message: Message;
  readonly partition?: number;
  readonly offset?: number;
  /** The Kafka record's timestamp (epoch ms): `trace.produced`. */
  readonly producedAt?: number;
  /** Hop times so far (from the record). */
  readonly trace?: MessageTrace;
}

/**
 * A change to a stored message (edit, delete, reaction) as the Kafka consumer received it, with its log
 * position and the record's timestamp when known (docs/adr/0008-message-changes.md).
 */
export interface InboundChange {
  readonly change: ChangeRecord;
  readonly partition?: number;
  readonly offset?: number;
  /** The Kafka record's timestamp (epoch ms). */
  readonly producedAt?: number;
}

/** Why persist refused a change (it writes nothing for it). */
export type RefusedReason = 'not_found' | 'not_member' | 'forbidden' | 'deleted' | 'too_many_reactions';

/** A stored message as a change or a reply sees it now (null where used: not found). */
export interface ReplyTarget {
  readonly id: string;
  readonly senderId: string;
  readonly body: string;
  readonly deleted: boolean;
}

/** What persist did with one conversation's changes of a batch (docs/adr/0008-message-changes.md). */
export interface ChangesResult {
  /** The conversation's members (for the fan-out). */
  readonly members: readonly string[];
  /** Changes an earlier attempt at this batch already applied, in log order (pushed unless marked pushed). */
  readonly redelivered: readonly ChangeRecord[];
  /** Changes applied now that changed a message, in log order (after the redelivered ones). */
  readonly effective: readonly ChangeRecord[];
  /** Changes refused by persist (re-checked against the store), with why; nothing written for them. */
  readonly refused: readonly { readonly change: ChangeRecord; readonly reason: RefusedReason }[];
  /** Every message the changes target, as it now is (for `messageUpdated`), by id. */
  readonly messages: ReadonlyMap<string, Message>;
}

export interface PersistResult {
  /** Stored (new or redelivered) messages, in seq order. */
  readonly stored: readonly StoredMessage[];
  /** Dropped: another message id already holds the same (sender, clientMsgId). */
  readonly duplicates: readonly Message[];
  /** The conversation's members (for the fan-out), read with the conversation's state or cached. */
  readonly members: readonly string[];
  /** When the rows were written (epoch ms): `trace.persisted`. */
  readonly persistedAt: number;
}

export interface ReadPointer {
  readonly lastReadId: string;
  readonly lastReadSeq: number;
  readonly readAt: string;
}

export interface ClientMsgClaim {
  /** The message id that owns this clientMsgId (the candidate, or the one a previous send claimed). */
  readonly messageId: string;
  /** A previous send already published it to Kafka: ack without producing again. */
  readonly published: boolean;
}

export interface Log {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export interface RealtimePorts {
  /** Attachments (core/attachments.ts). Absent: a send naming attachments is refused (`invalid_attachment`). */
  readonly attachments?: AttachmentPorts;
  readonly now: () => number;
  readonly newId: (now: number) => string;
  readonly log: Log;

  // Membership (the conversations store).
  readonly memberIds: (conversationId: string) => Promise<string[]>;
  readonly isMember: (conversationId: string, userId: string) => Promise<boolean>;
  readonly contactIds: (userId: string) => Promise<string[]>;

  // Connection registry and presence.
  readonly addConnection: (
    connectionId: string,
    userId: string,
    now: number,
  ) => Promise<{ firstConnection: boolean }>;
  readonly removeConnection: (connectionId: string, now: number) => Promise<RemovedConnection | null>;
  readonly setLastSeen: (userId: string, at: number) => Promise<void>;
  readonly lapsedConnections: (now: number, limit: number) => Promise<string[]>;
  readonly withinRate: (
    connectionId: string,
    scope: string,
    perSecond: number,
    now: number,
  ) => Promise<boolean>;

  // Push (management API).
  readonly pushToUsers: (
    userIds: readonly string[],
    events: ServerEvent | readonly ServerEvent[],
    options?: {
      exceptConnectionId?: string;
      /** Epoch ms by which the push ends (requests in flight aborted), on top of the per-call policy. */
      deadline?: number;
    },
  ) => Promise<PushResult>;
  readonly closeConnection: (connectionId: string) => Promise<void>;
  /** The ids among `messageIds` already pushed by an earlier attempt at the batch (see redis/pushed.ts). */
  readonly pushedAlready: (conversationId: string, messageIds: readonly string[]) => Promise<Set<string>>;
  readonly markPushed: (conversationId: string, messageIds: readonly string[]) => Promise<void>;

  // Sending.
  readonly claimClientMsgId: (
    conversationId: string,
    senderId: string,
    clientMsgId: string,
    candidateId: string,
  ) => Promise<ClientMsgClaim>;
  readonly markPublished: (
    conversationId: string,
    senderId: string,
    clientMsgId: string,
    messageId: string,
  ) => Promise<void>;
  readonly publish: (record: ChatRecord) => Promise<void>;

  // Notifications (issue 15, docs/adr/0010-web-push.md). Optional: without them, no mentions and no Web Push.
  /** A conversation's members with their usernames (mentions are computed when a message is sent). */
  readonly memberNames?: (conversationId: string) => Promise<{ id: string; username: string }[]>;
  /** Hands notification records for offline members to the webPush stage (one call per Kafka batch). */
  readonly notifyOffline?: (records: readonly NotificationRecord[]) => Promise<void>;

  // The message store.
  /**
   * Persists one conversation's messages of a batch idempotently (seqs, dedupe, the conversation's state) and
   * moves each sender's read pointer (forward only) to their last one (a sender has read their own messages);
   * returns the members for the fan-out.
   */
  readonly persistMessages: (
    conversationId: string,
    messages: readonly (Message | InboundMessage)[],
  ) => Promise<PersistResult>;
  readonly messageSeq: (conversationId: string, messageId: string) => Promise<number | null>;
  /** A stored message's sender, body and whether it is deleted (edit/delete/react/reply checks), or null. */
  readonly messageTarget: (conversationId: string, messageId: string) => Promise<ReplyTarget | null>;
  /** The distinct emoji a stored message has active reactions with (the cap check of `react`). */
  readonly reactionEmojis: (conversationId: string, messageId: string) => Promise<string[]>;
  /**
   * Applies one conversation's changes of a batch (edit, delete, reaction) idempotently and in log order,
   * re-checking authorization against the store; returns what to push.
   */
  readonly applyChanges: (
    conversationId: string,
    changes: readonly InboundChange[],
  ) => Promise<ChangesResult>;
  /** Moves a read pointer forward (by seq) only; returns the pointer as it now stands. */
  readonly advanceReadPointer: (
    conversationId: string,
    userId: string,
    to: ReadPointer,
  ) => Promise<{ advanced: boolean; pointer: ReadPointer }>;
}
