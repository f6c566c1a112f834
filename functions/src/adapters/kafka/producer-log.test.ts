import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaLogLevel } from './producer.ts';

describe('kafkajs log lines', () => {
  it('an error response kafkajs retries (the coordinator still loading) is INFO, not ERROR', () => {
    const loading = "The coordinator is loading and hence can't process requests for this group";
    expect(
      kafkaLogLevel(logLevel.ERROR, 'Response InitProducerId(key: 22, version: 1)', { error: loading }),
    ).toBe('info');
    expect(
      kafkaLogLevel(logLevel.ERROR, 'Response Produce(key: 0, version: 7)', {
        error: 'This server is not the leader for that topic-partition',
      }),
    ).toBe('info');
  });

  it('a failed connection attempt and the retriers’ lines are INFO: the caller logs the outcome', () => {
    expect(kafkaLogLevel(logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', {})).toBe(
      'info',
    );
    expect(kafkaLogLevel(logLevel.ERROR, 'Connection timeout', {})).toBe('info');
    expect(
      kafkaLogLevel(
        logLevel.ERROR,
        'Failed to connect to seed broker, trying another broker from the list: Connection error: connect ECONNREFUSED 127.0.0.1:9092',
        { retryCount: 0, retryTime: 100 },
      ),
    ).toBe('info');
    expect(
      kafkaLogLevel(logLevel.ERROR, 'Failed to send messages: Connection error: read ECONNRESET', {
        retryCount: 2,
        retryTime: 400,
      }),
    ).toBe('info');
  });

  it('what is not retried stays ERROR; WARN stays WARN', () => {
    expect(
      kafkaLogLevel(logLevel.ERROR, 'Response Produce(key: 0, version: 7)', {
        error: 'The request included a message larger than the max message size the server will accept',
      }),
    ).toBe('error');
    // a SASL authenticator's own line (no retry count): the credentials are wrong
    expect(
      kafkaLogLevel(logLevel.ERROR, 'SASL SCRAM SHA256 authentication failed: Authentication failed', {
        broker: 'b-1:9096',
      }),
    ).toBe('error');
    // a connection error named in another line than the attempt's own
    expect(kafkaLogLevel(logLevel.ERROR, 'Crash: KafkaJSConnectionError: Connection error', {})).toBe(
      'error',
    );
    expect(kafkaLogLevel(logLevel.WARN, 'Limiting retries', {})).toBe('warn');
  });
});
