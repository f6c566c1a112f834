/**
 * Startup: the ports listen at once but answer only when the runtime can serve. Until its functions are
 * deployed, its topics exist and its Kafka consumers run, the HTTP API answers 503 `Retry-After: 1`
 * `{"message":"Service Unavailable"}` and a WebSocket upgrade is refused 503 alike: never a 500 from a
 * function that is not there yet. Kafka is reached through a gate that holds every connection, so the
 * runtime stays "starting" until the test lets it through.
 */
import net from 'node:net';
import { waitFor } from '@chat/kit/async';
import { afterAll, expect, it } from 'vitest';
import { connectWs, refusal } from '../testing/ws-client.ts';
import { type LocalRuntime, startLocalRuntime } from './index.ts';
import { fixture } from './test-helpers.ts';

const [kafkaHost, kafkaPort] =
  (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')[0]?.split(':') ?? [];

/** A TCP gate in front of the broker: connections wait (unanswered) until `release()`, then flow. */
async function kafkaGate() {
  const held: net.Socket[] = [];
  const sockets = new Set<net.Socket>();
  let open = false;
  const pipe = (c: net.Socket) => {
    const up = net.connect(Number(kafkaPort ?? 9092), kafkaHost ?? '127.0.0.1');
    sockets.add(up);
    for (const [a, b] of [
      [c, up],
      [up, c],
    ] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
      a.pipe(b);
    }
  };
  const server = net.createServer((c) => {
    sockets.add(c);
    c.on('error', () => undefined);
    if (open) pipe(c);
    else held.push(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    release() {
      open = true;
      for (const c of held.splice(0)) if (!c.destroyed) pipe(c);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

let gate: Awaited<ReturnType<typeof kafkaGate>> | undefined;
let rt: LocalRuntime | undefined;

afterAll(async () => {
  gate?.release();
  await rt?.stop();
  await gate?.close();
}, 60_000);

it('answers 503 Retry-After: 1 (HTTP and WebSocket) while starting, then 200; never a 500', async () => {
  gate = await kafkaGate();
  const lines: string[] = [];
  let started = false;
  const starting = startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    log: (_source, line) => lines.push(line),
    schedules: false,
    functions: [],
    functionOverrides: {
      echo: fixture('http-echo.ts'),
      connect: fixture('ok.ts'),
      consumer: fixture('ok.ts'),
    },
    kafka: { brokers: [gate.address] },
    routeTable: {
      functionDefs: {},
      wsRoutes: [{ routeKey: '$connect', fn: 'connect', returnResponse: false }],
      httpRoutes: [{ method: 'GET', path: '/hello', fn: 'echo' }],
      schedules: [],
      kafkaConsumers: [
        {
          fn: 'consumer',
          topic: 'messages',
          batchSize: 10,
          batchingWindowSeconds: 0,
          startingPosition: 'LATEST',
        },
      ],
    },
  }).then((r) => {
    started = true;
    rt = r;
    return r;
  });
  const [, httpUrl, wsUrl] = await waitFor(
    () => lines.map((l) => /HTTP API (http:\S+), WebSocket API (ws:\S+)/.exec(l)).find(Boolean),
    { timeoutMs: 30_000, what: 'the ports listening' },
  );

  const statuses: number[] = [];
  const get = async () => {
    const res = await fetch(`${httpUrl}/hello?mode=plain`);
    statuses.push(res.status);
    return res;
  };
  const first = await get();
  expect(first.status).toBe(503);
  expect(first.headers.get('retry-after')).toBe('1');
  expect(await first.json()).toEqual({ message: 'Service Unavailable' });
  expect(await refusal(`${wsUrl}/`)).toEqual({ status: 503, body: '{"message":"Service Unavailable"}' });
  // Still starting: Kafka (topics, the consumer group) is held at the gate.
  expect(started).toBe(false);

  gate.release();
  const ok = await waitFor(async () => ((await get()).status === 200 ? true : undefined), {
    timeoutMs: 60_000,
    intervalMs: 100,
    what: 'a 200 once started',
  });
  expect(ok).toBe(true);
  expect(statuses.filter((s) => s !== 503 && s !== 200)).toEqual([]);
  expect(statuses.at(-1)).toBe(200);
  const runtime = await starting;
  // Ready means everything: the consumer runs, and the WebSocket API accepts.
  expect(runtime.kafkaMappings().map((m) => m.state)).toEqual(['Enabled']);
  const ws = await connectWs(`${wsUrl}/`);
  await ws.close();
}, 120_000);
