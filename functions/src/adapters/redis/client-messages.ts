import type { ClientMsgClaim } from '#core/ports.ts';
import { redis } from './client.ts';
import { clientMsgKey } from './keys.ts';

/**
 * Send-side dedupe of client message ids: (conversation, sender, clientMsgId) → `messageId:state`, state `p`
 * (claimed, publish pending or failed) or `s` (published). SET NX claims; the consumer keeps the durable copy
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
  const r = redis();
  for (let attempt = 0; attempt < 3; attempt++) {
    const set = await r.set(k, `${candidateId}:p`, 'EX', TTL_SECONDS, 'NX');
    if (set === 'OK') return { messageId: candidateId, published: false };
    const existing = await r.get(k);
    if (existing) return parse(existing);
    // Expired between SET and GET: claim again.
  }
  throw new Error('client message id claim did not settle');
}

export async function markPublished(
  conversationId: string,
  senderId: string,
  clientMsgId: string,
  messageId: string,
): Promise<void> {
  await redis().set(key(conversationId, senderId, clientMsgId), `${messageId}:s`, 'EX', TTL_SECONDS);
}
