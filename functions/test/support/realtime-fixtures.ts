import { randomBytes } from 'node:crypto';
import { createDm, createGroup } from '#adapters/cql/conversations.ts';
import { createUser } from '#adapters/cql/users.ts';
import type { Message, User } from '#contracts/models.ts';
import type { WsEvent } from '#transport/ws.ts';

/**
 * Fixtures for the realtime integration tests: unique users and conversations in the shared store (the
 * services are shared and persist, so every name carries a random run id), and API Gateway-shaped events.
 */

export const runId = (): string => randomBytes(4).toString('hex');

export async function users(prefix: string, ...names: string[]): Promise<User[]> {
  return Promise.all(
    names.map((n) => createUser({ username: `${prefix}${n}`.slice(0, 32), passwordHash: 'not-a-real-hash' })),
  );
}

export async function group(creator: User, others: User[], title = 'test group'): Promise<string> {
  const c = await createGroup(
    creator.id,
    title,
    others.map((u) => u.id),
  );
  return c.id;
}

export async function dm(a: User, b: User): Promise<string> {
  return (await createDm(a.id, b.id)).conversation.id;
}

let counter = 0;

/** A connection id in API Gateway's style (base64-ish, ends with `=`). */
export const connectionId = (): string => `${randomBytes(9).toString('base64').replace(/[+/]/g, 'x')}=`;

/** An API Gateway WebSocket proxy event (message route, `$connect` or `$disconnect`). */
export function wsEvent(
  routeKey: string,
  connId: string,
  options: { body?: string; query?: Record<string, string> } = {},
): WsEvent {
  const eventType =
    routeKey === '$connect' ? 'CONNECT' : routeKey === '$disconnect' ? 'DISCONNECT' : 'MESSAGE';
  const now = Date.now();
  const requestId = `req-${now}-${++counter}`;
  const requestContext = {
    routeKey,
    eventType,
    extendedRequestId: requestId,
    requestTime: new Date(now).toUTCString(),
    messageDirection: 'IN',
    stage: 'local',
    connectedAt: now,
    requestTimeEpoch: now,
    identity: { sourceIp: '127.0.0.1', userAgent: 'vitest' },
    requestId,
    domainName: 'localhost',
    connectionId: connId,
    apiId: 'local',
    ...(eventType === 'MESSAGE' ? { messageId: `msg-${counter}` } : {}),
    ...(eventType === 'DISCONNECT' ? { disconnectStatusCode: 1001, disconnectReason: 'Going away' } : {}),
  };
  const base = { requestContext, isBase64Encoded: false } as unknown as WsEvent;
  if (eventType === 'MESSAGE') return { ...base, body: options.body ?? '' };
  if (eventType === 'CONNECT') {
    return {
      ...base,
      headers: { Host: 'localhost' },
      queryStringParameters: options.query ?? null,
    } as WsEvent;
  }
  return base;
}

/** The Kafka ESM event for records of the messages topic (values as JSON objects or raw strings). */
export function kafkaEvent(
  topic: string,
  records: { key: string; value: unknown; partition?: number; offset?: number }[],
) {
  const byPartition: Record<string, unknown[]> = {};
  records.forEach((r, i) => {
    const partition = r.partition ?? 0;
    const key = `${topic}-${partition}`;
    const list = byPartition[key] ?? [];
    byPartition[key] = list;
    list.push({
      topic,
      partition,
      offset: r.offset ?? i,
      timestamp: Date.now(),
      timestampType: 'CREATE_TIME',
      key: Buffer.from(r.key).toString('base64'),
      value: Buffer.from(typeof r.value === 'string' ? r.value : JSON.stringify(r.value)).toString('base64'),
      headers: [],
    });
  });
  return {
    eventSource: 'SelfManagedKafka' as const,
    bootstrapServers: '127.0.0.1:9092',
    records: byPartition,
  } as never;
}

export const sentRecord = (message: Message) => ({ type: 'message.sent', v: 1, message });
