/** The message event built as JSON text is the object event, serialized: same fields, same order, same escaping. */
import { describe, expect, it } from 'vitest';
import { messageEvent, messageEventJson } from './events.ts';

describe('messageEventJson', () => {
  const api = { apiId: 'a1b2c3d4e5', stage: 'local' };
  const bodies = ['{"action":"ping"}', 'not json', 'quotes " \\ and \u2028 \u0000 \ud800 é 😀', ''];
  for (const userAgent of [undefined, 'Mozilla/5.0 "x" \\ é']) {
    it(`equals JSON.stringify(messageEvent(…)) (userAgent ${userAgent === undefined ? 'absent' : 'odd'})`, () => {
      const c = {
        connectionId: 'L0SM9c+FvH/CIhw=',
        connectedAt: 1_700_000_000_000,
        sourceIp: '127.0.0.1',
        userAgent,
        domainName: 'localhost:8080',
      };
      for (const body of bodies) {
        const args = [
          api,
          c,
          '$default',
          body,
          'bWVzc2FnZWlkMT0=',
          'cmVxdWVzdGlkMT0=',
          1_700_000_123_456,
        ] as const;
        expect(messageEventJson(...args)).toBe(JSON.stringify(messageEvent(...args)));
      }
    });
  }
});
