import { describe, expect, it } from 'vitest';
import { ChatRecord } from '#contracts/kafka.ts';
import { decodeBatch, type KafkaEvent } from './kafka.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const message = (n: number) => ({
  id: `01HZZZZZZZZZZZZZZZZZ${String(n).padStart(6, '0')}`,
  conversationId: 'c1',
  senderId: 'alice',
  clientMsgId: `cm-${n}`,
  body: `hello ${n}`,
  sentAt: new Date(1_700_000_000_000 + n).toISOString(),
});
const rec = (partition: number, offset: number | string, value: string | null, timestamp?: number) => ({
  topic: 'chat.messages',
  partition,
  offset,
  ...(timestamp !== undefined ? { timestamp } : {}),
  key: b64('c1'),
  value,
});

describe('decodeBatch', () => {
  it('gives each valid record its log position and timestamp (persist recognizes redelivery by offset), rejects the rest', () => {
    const event: KafkaEvent = {
      eventSource: 'SelfManagedKafka',
      records: {
        'chat.messages-0': [
          rec(
            0,
            41,
            b64(JSON.stringify({ type: 'message.sent', v: 1, message: message(1) })),
            1_700_000_000_500,
          ),
          rec(0, 42, b64('{not json')),
          rec(
            0,
            '43',
            b64(JSON.stringify({ type: 'message.sent', v: 1, message: message(2), trace: { received: 7 } })),
          ),
        ],
        'chat.messages-3': [rec(3, 9, null)],
      },
    };
    const { valid, sources, rejected } = decodeBatch(event, ChatRecord, new Date(0));
    expect(valid.map((r) => (r.type === 'message.sent' ? r.message.id : r.messageId))).toEqual([
      message(1).id,
      message(2).id,
    ]);
    expect(valid[1]?.type === 'message.sent' && valid[1].trace).toEqual({ received: 7 });
    expect(sources).toEqual([
      { topic: 'chat.messages', partition: 0, offset: 41, timestamp: 1_700_000_000_500 },
      { topic: 'chat.messages', partition: 0, offset: 43 },
    ]);
    expect(rejected.map((r) => [r.source.partition, r.source.offset, r.reason])).toEqual([
      [0, '42', 'value is not JSON'],
      [3, '9', 'record has no value'],
    ]);
  });
});
