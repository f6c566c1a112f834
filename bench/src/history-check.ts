/**
 * History check: every conversation of the run read back over HTTP (oldest first, 100 per page) and compared
 * with the acks (missing, duplicated), then every member's unread count against that history.
 */
import type { Message } from '@chat/functions/contracts';
import { mapLimit } from '@chat/kit/async';
import { ulidFloor } from './client.ts';
import type { Connections } from './connections.ts';
import type { SentMsg } from './tally.ts';
import { type BenchUser, retrying } from './world.ts';

export interface HistoryCheck {
  conversationsChecked: number;
  messagesInHistory: number;
  /** Acked messages that history does not hold. */
  missingFromHistory: number;
  /** The same message id twice, or one client message id under two ids. */
  duplicatedInHistory: number;
  /**
   * Members whose read pointer never moved (observers) whose unreadCount is not the number of messages in
   * the conversation: a redelivery counted twice, or a message not counted. Must be empty.
   */
  unreadMismatches: { conversationId: string; userId: string; unreadCount: number; expected: number }[];
  unreadChecked: number;
  /**
   * Members whose pointer moved (the server moves a sender's pointer to its own message) whose unreadCount
   * differs from the number of messages with a larger id than lastReadId. Informational: the server counts by
   * seq (Kafka order), clients by id; two racing sends can get ids in one order and seqs in the other.
   */
  unreadOrderDiffs: { conversationId: string; userId: string; unreadCount: number; byId: number }[];
  requests: number;
  errors: number;
}

/**
 * Read every conversation's history of this run (forward from the run's first millisecond) and compare it with
 * what was acked; then check each member's unread count against the history.
 */
export async function verifyHistory(conns: Connections, checkUnread: boolean): Promise<HistoryCheck> {
  const world = conns.world;
  await world.refreshTokens();
  const out: HistoryCheck = {
    conversationsChecked: 0,
    messagesInHistory: 0,
    missingFromHistory: 0,
    duplicatedInHistory: 0,
    unreadMismatches: [],
    unreadChecked: 0,
    unreadOrderDiffs: [],
    requests: 0,
    errors: 0,
  };
  // From the world's creation: earlier phases' messages count in unread counts too.
  const floor = ulidFloor(world.createdAtMs - 1000);
  const ackedByConv = new Map<number, SentMsg[]>();
  for (const m of conns.sent) {
    if (m.ackAt === 0 || !m.messageId) continue;
    const list = ackedByConv.get(m.conv) ?? [];
    list.push(m);
    ackedByConv.set(m.conv, list);
  }
  await mapLimit(world.conversations, 4, async (conv) => {
    const reader = world.users[conv.members[0] as number] as BenchUser;
    const all: Message[] = [];
    let after = floor;
    for (let page = 0; page < 100_000; page++) {
      out.requests++;
      const res = await retrying(() => world.api.history(reader.accessToken, conv.id, { after, limit: 100 }));
      all.push(...res.messages);
      const last = res.messages.at(-1);
      if (!last || res.messages.length < 100) break;
      after = last.id;
    }
    out.conversationsChecked++;
    out.messagesInHistory += all.length;
    const ids = new Set<string>();
    const byClient = new Map<string, string>();
    for (const msg of all) {
      if (ids.has(msg.id)) out.duplicatedInHistory++;
      ids.add(msg.id);
      const prev = byClient.get(msg.clientMsgId);
      if (prev !== undefined && prev !== msg.id) out.duplicatedInHistory++;
      byClient.set(msg.clientMsgId, msg.id);
    }
    for (const m of ackedByConv.get(conv.idx) ?? [])
      if (!ids.has(m.messageId as string)) out.missingFromHistory++;
    if (!checkUnread) return;
    // Only this run's messages exist in these conversations, so history since the floor is the whole history.
    for (const member of conv.members) {
      const u = world.users[member] as BenchUser;
      out.requests++;
      const c = await retrying(() => world.api.conversation(u.accessToken, conv.id));
      if (c.lastReadId === null) {
        out.unreadChecked++;
        if (c.unreadCount !== all.length) {
          out.unreadMismatches.push({
            conversationId: conv.id,
            userId: u.id,
            unreadCount: c.unreadCount,
            expected: all.length,
          });
        }
      } else {
        const byId = all.filter((m) => m.id > (c.lastReadId as string)).length;
        if (c.unreadCount !== byId) {
          out.unreadOrderDiffs.push({
            conversationId: conv.id,
            userId: u.id,
            unreadCount: c.unreadCount,
            byId,
          });
        }
      }
    }
  });
  return out;
}
