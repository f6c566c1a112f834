/** The deployed default (no PUSH_ALLOW_LOOPBACK, as CDK sets it) refuses loopback endpoints (issue 15). */
import { afterEach, describe, expect, it } from 'vitest';
import { endpointPolicy } from '#adapters/web-push.ts';
import { ENV } from '#contracts/env.ts';
import { endpointRefusal } from '#core/notifications.ts';

const saved = { loop: process.env[ENV.PUSH_ALLOW_LOOPBACK], hosts: process.env[ENV.PUSH_ENDPOINT_HOSTS] };
afterEach(() => {
  for (const [k, v] of [
    [ENV.PUSH_ALLOW_LOOPBACK, saved.loop],
    [ENV.PUSH_ENDPOINT_HOSTS, saved.hosts],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('endpointPolicy from the environment', () => {
  it('without PUSH_ALLOW_LOOPBACK (AWS), loopback endpoints are refused', () => {
    delete process.env[ENV.PUSH_ALLOW_LOOPBACK];
    delete process.env[ENV.PUSH_ENDPOINT_HOSTS];
    const policy = endpointPolicy();
    expect(policy.allowLoopback).toBe(false);
    expect(endpointRefusal('http://127.0.0.1:9000/push/x', policy)).toBe('not https');
    expect(endpointRefusal('http://localhost:9000/push/x', policy)).toBe('not https');
    expect(endpointRefusal('https://fcm.googleapis.com/fcm/send/x', policy)).toBeNull();
  });
  it('PUSH_ALLOW_LOOPBACK=1 (the local runtime) allows them; PUSH_ENDPOINT_HOSTS replaces the hosts', () => {
    process.env[ENV.PUSH_ALLOW_LOOPBACK] = '1';
    process.env[ENV.PUSH_ENDPOINT_HOSTS] = 'push.example.org';
    const policy = endpointPolicy();
    expect(endpointRefusal('http://127.0.0.1:9000/push/x', policy)).toBeNull();
    expect(endpointRefusal('https://fcm.googleapis.com/fcm/send/x', policy)).not.toBeNull();
  });
});
