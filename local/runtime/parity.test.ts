/**
 * Parity: what the running emulator serves (asked through `rt.surface()`) against what the synthesized CDK stack
 * deploys: WebSocket routes, their target functions and route responses, HTTP routes and their functions, CORS,
 * the Kafka event source mappings and the schedules. Both sides come from the one route table, so any drift
 * (a route the emulator adds or drops, a CDK construct that stops following the table) fails here.
 */
import { synthChatStack } from '@chat/infra/testing';
import type { CfnElement } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from './index.ts';
import { type ApiSurface, diffParity, rateExpression, templateSurface } from './parity.ts';
import { fixture } from './test-helpers.ts';

describe('the emulator and the CDK template agree', () => {
  let rt: LocalRuntime;
  let template: ApiSurface;

  beforeAll(async () => {
    const synth = synthChatStack();
    const names: Record<string, string> = {};
    for (const [name, fn] of Object.entries(synth.stack.functions.byName)) {
      names[synth.stack.getLogicalId(fn.node.defaultChild as CfnElement)] = name;
    }
    template = templateSurface(synth.json, names);
    rt = await startLocalRuntime({
      wsPort: 0,
      httpPort: 0,
      log: 'silent',
      // The routes, mappings and schedules are the real ones; these two functions' code is a no-op, so the
      // mapping (a new consumer group from TRIM_HORIZON) and the schedule touch no shared data.
      functionOverrides: { persistFanout: fixture('ok.ts'), sweeper: fixture('ok.ts') },
    });
  });

  afterAll(async () => {
    await rt?.stop();
  });

  it('serves exactly what the template deploys', () => {
    const emulator = rt.surface();
    expect(diffParity(emulator, template)).toEqual([]);
    // Not vacuous: every part of the surface is there on both sides.
    expect(emulator.ws.routes.map((r) => r.routeKey)).toEqual(
      expect.arrayContaining(['$connect', '$disconnect', '$default', 'sendMessage']),
    );
    expect(emulator.ws.routes.some((r) => r.returnResponse)).toBe(true);
    expect(emulator.http.routes.length).toBeGreaterThan(5);
    expect(emulator.http.cors).toBeDefined();
    expect(emulator.kafka.map((m) => `${m.fn} ← ${m.topic}`)).toEqual([
      'persistFanout ← chat.messages',
      'webPush ← chat.notifications',
    ]);
    expect(emulator.schedules).toHaveLength(1);
  });
});

describe('diffParity', () => {
  const surface = (): ApiSurface => ({
    ws: {
      routeSelectionExpression: '$request.body.action',
      routes: [
        { routeKey: '$connect', fn: 'wsConnect', returnResponse: false },
        { routeKey: 'ping', fn: 'wsPing', returnResponse: true },
      ],
    },
    http: {
      routes: [
        { method: 'GET', path: '/me', fn: 'httpAuth' },
        { method: 'POST', path: '/auth/login', fn: 'httpAuth' },
      ],
      cors: {
        allowMethods: ['GET', 'POST'],
        allowHeaders: ['authorization'],
        exposeHeaders: [],
        maxAgeSeconds: 3600,
        allowCredentials: false,
      },
    },
    kafka: [
      {
        fn: 'persistFanout',
        topic: 'chat.messages',
        batchSize: 100,
        batchingWindowSeconds: 0,
        startingPosition: 'TRIM_HORIZON',
        maximumRetryAttempts: -1,
        bisectBatchOnFunctionError: false,
      },
    ],
    schedules: [{ fn: 'sweeper', expression: 'rate(1 minute)' }],
  });

  it('finds nothing when both sides are equal (order and case of CORS lists aside)', () => {
    const t = surface();
    const e = {
      ...surface(),
      http: {
        ...t.http,
        cors: { ...(t.http.cors as NonNullable<ApiSurface['http']['cors']>), allowMethods: ['post', 'get'] },
      },
    };
    expect(diffParity(e, t)).toEqual([]);
  });

  it('reports a retry budget the emulator does not apply (bounded retries with bisection on AWS)', () => {
    const t = surface();
    const k = t.kafka[0] as ApiSurface['kafka'][number];
    const bounded = { ...t, kafka: [{ ...k, maximumRetryAttempts: 10, bisectBatchOnFunctionError: true }] };
    expect(diffParity(surface(), bounded).join('\n')).toMatch(/persistFanout ← chat\.messages/);
  });

  it('reports a WebSocket route removed from either side', () => {
    const full = surface();
    const less = { ...surface(), ws: { ...full.ws, routes: full.ws.routes.slice(0, 1) } };
    expect(diffParity(less, full)).toEqual(['WebSocket route ping: only in the template']);
    expect(diffParity(full, less)).toEqual(['WebSocket route ping: only in the emulator']);
  });

  it('reports an HTTP route removed from either side', () => {
    const full = surface();
    const less = { ...surface(), http: { ...full.http, routes: full.http.routes.slice(1) } };
    expect(diffParity(less, full)).toEqual(['HTTP route GET /me: only in the template']);
    expect(diffParity(full, less)).toEqual(['HTTP route GET /me: only in the emulator']);
  });

  it('reports a changed target function, route response, CORS, mapping and schedule', () => {
    const t = surface();
    const e: ApiSurface = {
      ws: {
        routeSelectionExpression: '$request.body.type',
        routes: [
          { routeKey: '$connect', fn: 'wsOther', returnResponse: false },
          { routeKey: 'ping', fn: 'wsPing', returnResponse: false },
        ],
      },
      http: {
        routes: [
          { method: 'GET', path: '/me', fn: 'httpDirectory' },
          { method: 'POST', path: '/auth/login', fn: 'httpAuth' },
        ],
        cors: undefined,
      },
      kafka: [{ ...(t.kafka[0] as ApiSurface['kafka'][number]), batchSize: 10, startingPosition: 'LATEST' }],
      schedules: [{ fn: 'sweeper', expression: 'rate(5 minutes)' }],
    };
    expect(diffParity(e, t)).toEqual([
      'WebSocket route selection expression is $request.body.type in the emulator, $request.body.action in the template',
      'WebSocket route $connect: fn is "wsOther" in the emulator, "wsConnect" in the template',
      'WebSocket route ping: returnResponse is false in the emulator, true in the template',
      'HTTP route GET /me: fn is "httpDirectory" in the emulator, "httpAuth" in the template',
      'HTTP API CORS: only in the template',
      'Kafka event source mapping persistFanout ← chat.messages: batchSize is 10 in the emulator, 100 in the template',
      'Kafka event source mapping persistFanout ← chat.messages: startingPosition is "LATEST" in the emulator, "TRIM_HORIZON" in the template',
      'schedule sweeper: expression is "rate(5 minutes)" in the emulator, "rate(1 minute)" in the template',
    ]);
  });

  it('writes rates as CDK does', () => {
    expect([60, 300, 3600, 7200, 86_400].map(rateExpression)).toEqual([
      'rate(1 minute)',
      'rate(5 minutes)',
      'rate(1 hour)',
      'rate(2 hours)',
      'rate(1 day)',
    ]);
  });
});
