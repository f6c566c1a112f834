/** Test fixture for `$connect`: the query string tells it how to answer. */
import { setTimeout as delay } from 'node:timers/promises';

interface ConnectEvent {
  readonly queryStringParameters?: Record<string, string>;
}

export const handler = async (event: ConnectEvent) => {
  const q = event.queryStringParameters ?? {};
  if (q.throw) throw new Error('connect failed on purpose');
  if (q.sleepMs) await delay(Number(q.sleepMs));
  if (q.status) return { statusCode: Number(q.status), body: q.body ?? '' };
  if (q.protocol) return { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': q.protocol } };
  return { statusCode: 200 };
};
