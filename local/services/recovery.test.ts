/**
 * The manager recovers: a native service process that it started is killed with SIGKILL, `up` again brings it
 * back healthy. The processes killed here are private instances (own state folder, own ports) started by the
 * same manager code, so the shared services other test files use are never disturbed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '@chat/kit/async';
import { afterAll, describe, expect, it } from 'vitest';
import { type ManagerOptions, memoryReporter, servicesDown, servicesStatus, servicesUp } from './index.ts';
import { freePort, isAlive } from './support.ts';

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'chat-services-recovery-'));
const started: ManagerOptions[] = [];

afterAll(async () => {
  for (const opts of started) await servicesDown(opts).catch(() => {});
  rmSync(stateDir, { recursive: true, force: true });
});

async function killAndRecover(opts: ManagerOptions): Promise<void> {
  const first = await servicesUp(opts);
  const [s] = first.services;
  expect(s?.mode).toBe('native');
  const pid = s?.pid as number;
  expect(isAlive(pid)).toBe(true);

  process.kill(pid, 'SIGKILL');
  await waitFor(() => !isAlive(pid), { timeoutMs: 5_000, what: `pid ${pid} to exit` });
  const [down] = await servicesStatus(opts);
  expect(down?.healthy).toBe(false);
  expect(down?.mode).toBe('stopped');

  const again = await servicesUp(opts);
  const [s2] = again.services;
  expect(s2?.healthy).toBe(true);
  expect(s2?.mode).toBe('native');
  expect(s2?.pid).not.toBe(pid);
  const [status] = await servicesStatus(opts);
  expect(status?.healthy).toBe(true);
  expect(status?.pid).toBe(s2?.pid);

  // `down` stops what it started, and only that.
  const [res] = await servicesDown(opts);
  expect(res?.action).toBe('stopped');
  expect(isAlive(s2?.pid as number)).toBe(false);
}

describe('services manager recovery', () => {
  it('restarts a Redis it started after kill -9', async () => {
    const port = await freePort();
    const opts: ManagerOptions = {
      stateDir: path.join(stateDir, 'redis'),
      services: ['redis'],
      mode: 'native',
      applySchema: false,
      addresses: { redisUrl: `redis://127.0.0.1:${port}` },
      report: memoryReporter(),
    };
    started.push(opts);
    await killAndRecover(opts);
  });

  it('restarts a Kafka broker it started after kill -9 (log recovery, same storage)', async () => {
    const [broker, controller] = [await freePort(), await freePort()];
    const opts: ManagerOptions = {
      stateDir: path.join(stateDir, 'kafka'),
      services: ['kafka'],
      mode: 'native',
      applySchema: true,
      kafkaHeap: '512m',
      addresses: { kafkaBrokers: [`127.0.0.1:${broker}`], kafkaControllerPort: controller },
      report: memoryReporter(),
    };
    started.push(opts);
    await killAndRecover(opts);
  }, 240_000);

  it('refuses a port taken by something that is not the service, with a clear error', async () => {
    const squatter = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      await expect(
        servicesUp({
          stateDir: path.join(stateDir, 'squatted'),
          services: ['redis'],
          mode: 'native',
          applySchema: false,
          addresses: { redisUrl: `redis://127.0.0.1:${port}` },
          report: memoryReporter(),
        }),
      ).rejects.toThrow(
        new RegExp(`127\\.0\\.0\\.1:${port} is taken by something that does not answer as redis`),
      );
    } finally {
      squatter.close();
    }
  });

  it('leaves a service it did not start alone on `down`', async () => {
    const [res] = await servicesDown({
      stateDir: path.join(stateDir, 'none'),
      services: ['redis'],
      report: memoryReporter(),
    });
    // The shared Redis answers at the default address but this state folder never started it.
    expect(res?.action).toBe('not-ours');
  });
});
