import type { ClientMsgClaim } from '#core/ports.ts';
import { redis } from './client.ts';
import { clientMsgKey } from './keys.ts';

/**
 * Send-side dedupe of client message ids: (conversation, sender, clientMsgId) → `messageId:state`, state `p`
 * (claimed, publish pending or failed) or `s` (published). The claim is ONE command, `SET … NX GET` (Redis 7):
 * it sets the candidate when the key is free and returns what an earlier send stored otherwise, atomically (no
 * window where the key expires between a SET and a GET). The consumer keeps the durable copy
 * (`client_messages`), so losing this key only costs a duplicate that the consumer drops.
 */

const TTL_SECONDS = 24 * 3600;

const key = clientMsgKey;

const parse = (value: string): ClientMsgClaim => {
  const i = value.lastIndexOf(':');
  return { messageId: value.slice(0, i), published: value.slice(i + 1) === 's' };
};

export async function claimClientMsgId(
  conversationId: string,
  senderId: string,
  clientMsgId: string,
  candidateId: string,
): Promise<ClientMsgClaim> {
  const k = key(conversationId, senderId, clientMsgId);
  const existing = await redis().set(k, `${candidateId}:p`, 'EX', TTL_SECONDS, 'NX', 'GET');
  return existing === null ? { messageId: candidateId, published: false } : parse(existing);
}

/**
 * Records that the claim's message was published, so a resend acks without producing again. The send path does
 * not wait for it (docs/adr/0007-send-path.md): losing it only costs one more produce of the same message id on
 * a resend, which the consumer drops.
 */
export async function markPublished(
  conversationId: string,
  senderId: string,
  clientMsgId: string,
  messageId: string,
): Promise<void> {
  await redis().set(key(conversationId, senderId, clientMsgId), `${messageId}:s`, 'EX', TTL_SECONDS);
}
