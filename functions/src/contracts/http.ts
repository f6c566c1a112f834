import { z } from 'zod';
import { limits } from './limits.ts';
import {
  Conversation,
  DisplayName,
  Id,
  IsoTime,
  Message,
  Password,
  Presence,
  Receipt,
  Ulid,
  User,
  Username,
} from './models.ts';

// ── Request bodies ────────────────────────────────────────────────────────────────────────────────────────

export const SignupBody = z.object({
  username: Username,
  password: Password,
  displayName: DisplayName.optional(),
});
export const LoginBody = z.object({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});
export const RefreshBody = z.object({ refreshToken: z.string().min(1).max(512) });
export const LogoutBody = RefreshBody;
export const CreateConversationBody = z.discriminatedUnion('type', [
  z.object({ type: z.literal('dm'), peerId: Id }),
  z.object({
    type: z.literal('group'),
    title: z.string().trim().min(1).max(limits.groupTitleMaxChars),
    memberIds: z.array(Id).max(limits.groupMaxMembers - 1),
  }),
]);
export const AddMembersBody = z.object({
  memberIds: z
    .array(Id)
    .min(1)
    .max(limits.groupMaxMembers - 1),
});
/** An opaque paging cursor: pass back the `nextCursor` of the previous page (empty: the first page). */
const Cursor = z.string().max(200);
export const ConversationsQuery = z.object({
  cursor: Cursor.optional(),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(limits.conversationsPageMax)
    .default(limits.conversationsPageDefault),
});
export const MembersQuery = z.object({
  cursor: Cursor.optional(),
  limit: z.coerce.number().int().min(1).max(limits.membersPageMax).default(limits.membersPageDefault),
});
export const MarkReadBody = z.object({ messageId: Ulid });
export const HistoryQuery = z.object({
  before: Ulid.optional(),
  after: Ulid.optional(),
  limit: z.coerce.number().int().min(1).max(limits.historyPageMax).default(limits.historyPageDefault),
});
export const UsersQuery = z.object({ query: z.string().max(limits.usernameMax).default('') });
export const PresenceQuery = z.object({ userIds: z.string().max(100 * 64) });

export type SignupBody = z.infer<typeof SignupBody>;
export type LoginBody = z.infer<typeof LoginBody>;
export type CreateConversationBody = z.infer<typeof CreateConversationBody>;
export type HistoryQuery = z.infer<typeof HistoryQuery>;
export type ConversationsQuery = z.infer<typeof ConversationsQuery>;
export type MembersQuery = z.infer<typeof MembersQuery>;

// ── Response bodies ───────────────────────────────────────────────────────────────────────────────────────

export const AuthResponse = z.object({
  user: User,
  accessToken: z.string(),
  refreshToken: z.string(),
  /** When the access token expires. */
  expiresAt: IsoTime,
});
export const TicketResponse = z.object({ ticket: z.string(), expiresAt: IsoTime });
/** `online` only for people who share a conversation with the caller (and the caller): none for strangers. */
export const UsersResponse = z.object({ users: z.array(User.extend({ online: z.boolean().optional() })) });
export const ConversationsResponse = z.object({
  conversations: z.array(Conversation),
  nextCursor: z.string().nullable(),
});
export const MembersResponse = z.object({ members: z.array(User), nextCursor: z.string().nullable() });
export const HistoryResponse = z.object({ messages: z.array(Message), nextCursor: Ulid.nullable() });
export const ReceiptsResponse = z.object({ receipts: z.array(Receipt) });
export const PresenceResponse = z.object({ presence: z.array(Presence) });

export type AuthResponse = z.infer<typeof AuthResponse>;
export type TicketResponse = z.infer<typeof TicketResponse>;
export type UsersResponse = z.infer<typeof UsersResponse>;
export type ConversationsResponse = z.infer<typeof ConversationsResponse>;
export type MembersResponse = z.infer<typeof MembersResponse>;
export type HistoryResponse = z.infer<typeof HistoryResponse>;
export type ReceiptsResponse = z.infer<typeof ReceiptsResponse>;
export type PresenceResponse = z.infer<typeof PresenceResponse>;
