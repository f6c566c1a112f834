/**
 * The environment of the bench's runtime (host-env.ts). Its functions must reach the services as under `npm start`:
 * without the S3 server's credentials they fell back to the runtime's dummy AWS identity, and every sweep of
 * pending uploads failed with InvalidToken, logged once a minute (and each such log decoded a source map).
 */
import { topics } from '@chat/functions/contracts';
import { ENV } from '@chat/functions/env';
import { serviceEnv } from '@chat/local/services';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { benchRuntimeEnv } from './host-env.ts';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("The bench's runtime environment", () => {
  it('gives the functions every service address and the S3 server’s credentials, as `npm start` does', () => {
    // As `npm run bench` starts: none of it in the process environment (npm test's set-up puts it there).
    for (const k of Object.keys(serviceEnv())) vi.stubEnv(k, undefined);
    const env = benchRuntimeEnv({});
    for (const k of [
      ENV.S3_ENDPOINT,
      ENV.S3_ACCESS_KEY_ID,
      ENV.S3_SECRET_ACCESS_KEY,
      ENV.REDIS_URL,
      ENV.KAFKA_BROKERS,
    ])
      expect(env[k], k).toBeTruthy();
    expect(env).toMatchObject(serviceEnv());
  });

  it('carries the run’s own topics and the bench’s rate limits', () => {
    const env = benchRuntimeEnv({ [topics.messages.envVar]: 'bench-x.messages' });
    expect(env[topics.messages.envVar]).toBe('bench-x.messages');
    expect(env.RATE_LIMITS).toContain('signupPerIp=1000000/60');
  });
});
