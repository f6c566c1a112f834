import { attachmentPorts } from '#adapters/attachments.ts';
import { enforce, limitGroupCreation } from '#adapters/auth/rate-limit.ts';
import { conversationPorts as ports } from '#adapters/conversation-ports.ts';
import { realtimePorts } from '#adapters/realtime.ts';
import {
  AddMembersBody,
  ConversationsQuery,
  CreateConversationBody,
  HistoryQuery,
  MarkReadBody,
  MembersQuery,
} from '#contracts/http.ts';
import * as core from '#core/conversations.ts';
import { markRead } from '#core/messaging.ts';
import { created, httpRouter, noContent, ok, route } from '#transport/http.ts';

/** HTTP API: conversations, members, history, read pointers, receipts. Non-members get 404 everywhere. */
export const handler = httpRouter('httpConversations', {
  'POST /conversations': route({
    auth: true,
    body: CreateConversationBody,
    handle: async ({ userId, body }) => {
      if (body.type === 'group') await limitGroupCreation(userId, body.memberIds.length);
      const res = await core.createConversation(ports, userId, body);
      return res.created ? created(res.conversation) : ok(res.conversation);
    },
  }),
  'GET /conversations': route({
    auth: true,
    query: ConversationsQuery,
    handle: async ({ userId, query }) => ok(await core.listConversations(ports, userId, query)),
  }),
  'GET /conversations/{id}': route({
    auth: true,
    handle: async ({ userId, params }) => ok(await core.getConversation(ports, userId, params.id ?? '')),
  }),
  'POST /conversations/{id}/members': route({
    auth: true,
    body: AddMembersBody,
    handle: async ({ userId, params, body }) => {
      await enforce('memberAddsPerUser', userId, body.memberIds.length);
      return ok(await core.addMembers(ports, userId, params.id ?? '', body.memberIds));
    },
  }),
  'GET /conversations/{id}/members': route({
    auth: true,
    query: MembersQuery,
    handle: async ({ userId, params, query }) =>
      ok(await core.members(ports, userId, params.id ?? '', query)),
  }),
  'GET /conversations/{id}/messages': route({
    auth: true,
    query: HistoryQuery,
    handle: async ({ userId, params, query }) => {
      const page = await core.history(ports, userId, params.id ?? '', query);
      return ok({ ...page, messages: await attachmentPorts.withUrls(page.messages) });
    },
  }),
  'POST /conversations/{id}/read': route({
    auth: true,
    body: MarkReadBody,
    handle: async ({ userId, params, body }) => {
      // The same core call as the WebSocket `markRead` (receipts to the members' connections).
      await core.hideNonMember(
        markRead(realtimePorts, { userId }, { conversationId: params.id ?? '', messageId: body.messageId }),
      );
      return noContent();
    },
  }),
  'GET /conversations/{id}/receipts': route({
    auth: true,
    handle: async ({ userId, params }) =>
      ok({ receipts: await core.receipts(ports, userId, params.id ?? '') }),
  }),
});
