import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaLogLevel } from './producer.ts';

describe('kafkajs log lines', () => {
  it('an error response kafkajs retries (the coordinator still loading) is INFO, not ERROR', () => {
    const loading = "The coordinator is loading and hence can't process requests for this group";
    expect(kafkaLogLevel(logLevel.ERROR, 'Response InitProducerId(key: 22, version: 1)', loading)).toBe(
      'info',
    );
    expect(
      kafkaLogLevel(
        logLevel.ERROR,
        'Response Produce(key: 0, version: 7)',
        'This server is not the leader for that topic-partition',
      ),
    ).toBe('info');
  });

  it('what is not retried, and failures that are not a broker response, stay ERROR; WARN stays WARN', () => {
    expect(
      kafkaLogLevel(
        logLevel.ERROR,
        'Response Produce(key: 0, version: 7)',
        'The request included a message larger than the max message size the server will accept',
      ),
    ).toBe('error');
    expect(
      kafkaLogLevel(logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', undefined),
    ).toBe('error');
    expect(
      kafkaLogLevel(
        logLevel.ERROR,
        'Failed to connect to seed broker',
        "The coordinator is loading and hence can't process requests for this group",
      ),
    ).toBe('error');
    expect(kafkaLogLevel(logLevel.WARN, 'Limiting retries', undefined)).toBe('warn');
  });
});
