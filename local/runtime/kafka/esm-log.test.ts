import { describe, expect, it } from 'vitest';
import { KafkaEventSourceMappings } from './esm.ts';

/** A runtime log as `npm start` builds it: every-mode lines, and per-attempt ones in `detail`. */
function capture(verbose: boolean) {
  const lines: string[] = [];
  const detailLines: string[] = [];
  const detail = Object.assign((_s: string, l: string) => void detailLines.push(l), { enabled: verbose });
  const log = Object.assign((_s: string, l: string) => void lines.push(l), { detail });
  return { log, lines, detailLines };
}

function mappingsOn(log: ReturnType<typeof capture>['log']) {
  return new KafkaEventSourceMappings({
    deploymentId: 'esm-log-test',
    brokers: ['127.0.0.1:1'], // nothing listens: every connection attempt is refused
    lambda: {} as never,
    mappings: [],
    region: 'us-east-1',
    accountId: '000000000000',
    retryBaseMs: 10,
    retryMaxMs: 10,
    log,
  });
}

describe("the event source's kafkajs lines while Kafka is unreachable", () => {
  it('each refused connection attempt is a verbose line only; the default output stays quiet', async () => {
    const quiet = capture(false);
    const admin = mappingsOn(quiet.log).kafka.admin({ retry: { retries: 2, initialRetryTime: 10 } });
    await expect(admin.connect()).rejects.toThrow(/ECONNREFUSED/);
    expect(quiet.lines).toEqual([]);
    expect(quiet.detailLines).toEqual([]);

    const verbose = capture(true);
    const admin2 = mappingsOn(verbose.log).kafka.admin({ retry: { retries: 2, initialRetryTime: 10 } });
    await expect(admin2.connect()).rejects.toThrow(/ECONNREFUSED/);
    expect(verbose.lines).toEqual([]);
    expect(
      verbose.detailLines.some((l) => l.startsWith('Connection Connection error: connect ECONNREFUSED')),
    ).toBe(true);
    expect(verbose.detailLines.some((l) => l.startsWith('BrokerPool Failed to connect to seed broker'))).toBe(
      true,
    );
  });
});
