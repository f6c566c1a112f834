import type { Message } from '@chat/functions/contracts';
import { describe, expect, it } from 'vitest';
import { enqueue, markAcked, markFailed, markSent, requeue, settle, timedOut, toResend } from './outbox.ts';

const item = (n: number) => ({ clientMsgId: `c${n}`, conversationId: 'conv', body: `b${n}`, createdAt: n });

describe('outbox', () => {
  it('enqueues once per clientMsgId', () => {
    const o = enqueue(enqueue([], item(1)), item(1));
    expect(o).toHaveLength(1);
    expect(o[0]?.status).toBe('queued');
  });

  it('resends everything not persisted, oldest first, with the same clientMsgId', () => {
    let o = enqueue(enqueue(enqueue([], item(3)), item(1)), item(2));
    o = markSent(o, 'c1', 10);
    o = markAcked(o, 'c1');
    o = markSent(o, 'c2', 10);
    expect(toResend(o).map((x) => x.clientMsgId)).toEqual(['c1', 'c2', 'c3']);
  });

  it('does not resend what the server refused for good, but does resend timeouts and rate limits', () => {
    let o = enqueue(enqueue(enqueue([], item(1)), item(2)), item(3));
    o = markFailed(o, 'c1', { code: 'body_too_long', message: 'too long' });
    o = markFailed(o, 'c2', { code: 'timeout', message: 'late' });
    o = markFailed(o, 'c3', { code: 'rate_limited', message: 'slow down' });
    expect(toResend(o).map((x) => x.clientMsgId)).toEqual(['c2', 'c3']);
    // the user can still retry the refused one by hand
    expect(requeue(o, 'c1').find((x) => x.clientMsgId === 'c1')?.status).toBe('queued');
  });

  it('settles when my message comes back persisted, and only mine', () => {
    const o = enqueue(enqueue([], item(1)), item(2));
    const persisted = (clientMsgId: string, senderId: string) => ({ clientMsgId, senderId }) as Message;
    expect(settle(o, [persisted('c1', 'someone-else')], 'me')).toBe(o);
    expect(settle(o, [persisted('c1', 'me')], 'me').map((x) => x.clientMsgId)).toEqual(['c2']);
  });

  it('times out a send that got no ack', () => {
    const o = markSent(enqueue([], item(1)), 'c1', 1_000);
    expect(timedOut(o, 10_000, 15_000)).toEqual([]);
    expect(timedOut(o, 20_000, 15_000)).toEqual(['c1']);
    expect(timedOut(markAcked(o, 'c1'), 20_000, 15_000)).toEqual([]);
  });
});
