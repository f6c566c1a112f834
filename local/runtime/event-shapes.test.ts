/**
 * The emulator's events have exactly the field set (keys and value types) of the AWS events in ./fixtures:
 * $connect, message, $disconnect, HTTP API payload 2.0, SelfManagedKafka, EventBridge scheduled event.
 */

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { waitFor } from '@chat/kit/async';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWs } from '../testing/ws-client.ts';
import { type LocalRuntime, scheduledEvent, startLocalRuntime } from './index.ts';
import { fixture, type RecordedEvent, recorder, shape } from './test-helpers.ts';

const example = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

const without = (entries: string[], ...prefixes: string[]): string[] =>
  entries.filter((e) => !prefixes.some((p) => e.startsWith(p)));

let rt: LocalRuntime;
let connects: RecordedEvent[];
let messages: RecordedEvent[];
let disconnects: RecordedEvent[];
let https: RecordedEvent[];
let kafkaEvents: RecordedEvent[];
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const kafka = new kafkajs.Kafka({
  clientId: 'runtime-shape-test',
  brokers,
  logLevel: kafkajs.logLevel.NOTHING,
});
const topic = `rt-shape-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    log: 'silent',
    schedules: false,
    functions: [],
    functionOverrides: {
      connect: fixture('ok.ts'),
      message: fixture('ok.ts'),
      disconnect: fixture('ok.ts'),
      http: fixture('ok.ts'),
      consumer: fixture('ok.ts'),
    },
    kafka: { brokers },
    routeTable: {
      functionDefs: {},
      wsRoutes: [
        { routeKey: '$connect', fn: 'connect', returnResponse: false },
        { routeKey: '$disconnect', fn: 'disconnect', returnResponse: false },
        { routeKey: '$default', fn: 'message', returnResponse: false },
      ],
      httpRoutes: [
        { method: 'POST', path: '/lambda', fn: 'http' },
        { method: 'POST', path: '/my/{parameter1}', fn: 'http' },
      ],
      kafkaConsumers: [
        {
          fn: 'consumer',
          topic,
          batchSize: 10,
          batchingWindowSeconds: 0,
          startingPosition: 'TRIM_HORIZON',
          consumerGroupId: `rt-shape-${randomUUID().slice(0, 8)}`,
        },
      ],
      schedules: [],
    },
  });
  connects = recorder(rt, 'connect');
  messages = recorder(rt, 'message');
  disconnects = recorder(rt, 'disconnect');
  https = recorder(rt, 'http');
  kafkaEvents = recorder(rt, 'consumer');
});

afterAll(async () => {
  await rt?.stop();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

describe('When two events are compared by shape', () => {
  it('tells apart a missing field, an extra field and a changed type', () => {
    const base = example('ws-message.json') as { requestContext: Record<string, unknown> };
    const missing = structuredClone(base);
    delete missing.requestContext.messageId;
    const extra = { ...structuredClone(base), headers: {} };
    const retyped = structuredClone(base);
    retyped.requestContext.connectedAt = String(retyped.requestContext.connectedAt);
    for (const other of [missing, extra, retyped]) expect(shape(other)).not.toEqual(shape(base));
    expect(shape(structuredClone(base))).toEqual(shape(base));
  });
});

describe('When the emulator builds WebSocket events', () => {
  it('$connect without a query string has the captured field set', async () => {
    const c = await connectWs(rt.wsUrl, { headers: { Origin: 'http://localhost:3000' } });
    const e = await waitFor(() => connects.at(-1), { timeoutMs: 5_000, what: '$connect' });
    expect(shape(e)).toEqual(shape(example('ws-connect.json')));
    c.ws.close();
  });

  it('$connect with a query string adds the two query maps', async () => {
    const before = connects.length;
    const c = await connectWs(`${rt.wsUrl}/?ticket=abc`, { headers: { Origin: 'http://localhost:3000' } });
    const e = await waitFor(() => connects[before], { timeoutMs: 5_000, what: '$connect' });
    expect(shape(e)).toEqual(shape(example('ws-connect-query.json')));
    c.ws.close();
  });

  it('message and $disconnect events have the captured field sets', async () => {
    const c = await connectWs(rt.wsUrl, { headers: { 'User-Agent': 'Mozilla/5.0 (test)' } });
    c.ws.send('{"a": 1}');
    const m = await waitFor(() => messages.at(-1), { timeoutMs: 5_000, what: 'message' });
    expect(shape(m)).toEqual(shape(example('ws-message.json')));
    c.ws.close(1001);
    const d = await waitFor(
      () => disconnects.find((x) => x.requestContext.connectionId === m.requestContext.connectionId),
      { timeoutMs: 5_000, what: '$disconnect' },
    );
    expect(shape(d)).toEqual(shape(example('ws-disconnect.json')));
  });
});

describe('When the emulator builds HTTP API events', () => {
  it('a bare POST has the captured field set (no authorizer locally)', async () => {
    await fetch(`${rt.httpUrl}/lambda`, { method: 'POST', headers: { authorization: 'Bearer foo' } });
    const e = await waitFor(() => https.at(-1), { timeoutMs: 5_000, what: 'http event' });
    expect(shape(e)).toEqual(without(shape(example('http-v2-no-body.json')), 'requestContext.authorizer'));
  });

  it('a request with cookies, query, path parameter and body has the documented field set', async () => {
    const before = https.length;
    await fetch(`${rt.httpUrl}/my/path?parameter1=value1&parameter1=value2&parameter2=value`, {
      method: 'POST',
      headers: { cookie: 'cookie1; cookie2', 'content-type': 'text/plain' },
      body: 'Hello from Lambda',
    });
    const e = await waitFor(() => https[before], { timeoutMs: 5_000, what: 'http event' });
    expect(shape(e)).toEqual(
      without(
        shape(example('http-v2-full.json')),
        'requestContext.authorizer',
        'requestContext.authentication',
        'stageVariables',
      ),
    );
  });
});

describe('When the emulator builds other events', () => {
  it('the Kafka batch has the SelfManagedKafka field set', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [{ key: 'k', value: 'v', headers: { headerKey: 'headerValue' } }],
    });
    await producer.disconnect();
    const e = await waitFor(() => kafkaEvents[0], { timeoutMs: 30_000, what: 'kafka event' });
    expect(shape(e)).toEqual(shape(example('kafka-self-managed.json')));
  });

  it('the scheduled event has the EventBridge field set', () => {
    const e = scheduledEvent('sweeper', 'us-east-1', '123456789012');
    expect(shape(e)).toEqual(shape(example('eventbridge-scheduled.json')));
    expect(e.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });
});
