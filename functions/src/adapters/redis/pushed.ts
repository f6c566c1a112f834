import { redis } from './client.ts';
import { pushedKey } from './keys.ts';

/**
 * Fan-out markers: which messages the consumer has already pushed. A Kafka batch is retried as a whole (after a
 * crash, a timeout, a broker failover before the offset commit); without these, every message of a retried
 * batch would be pushed to every connection again. The marker is set after the push, so a crash between the
 * two still re-pushes (at-least-once, clients dedupe by id); it never suppresses a first delivery.
 * Keys share the conversation's hash tag (keys.ts), so one MGET and one pipeline serve a conversation on the
 * cluster: one slot.
 */

const TTL_SECONDS = 6 * 3600;

const key = pushedKey;

/** The ids among `messageIds` whose fan-out already happened. */
export async function pushedAlready(
  conversationId: string,
  messageIds: readonly string[],
): Promise<Set<string>> {
  if (messageIds.length === 0) return new Set();
  const values = await redis().mget(...messageIds.map((id) => key(conversationId, id)));
  return new Set(messageIds.filter((_, i) => values[i] !== null));
}

export async function markPushed(conversationId: string, messageIds: readonly string[]): Promise<void> {
  if (messageIds.length === 0) return;
  const pipeline = redis().pipeline();
  for (const id of messageIds) pipeline.set(key(conversationId, id), '1', 'EX', TTL_SECONDS);
  const results = await pipeline.exec();
  const failed = results?.find(([error]) => error);
  if (failed?.[0]) throw failed[0];
}
