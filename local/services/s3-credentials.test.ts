/**
 * The local S3 server's root credentials belong to the machine user, not to a clone: every clone reuses the one
 * server on :9000 (as it reuses Redis, Kafka and Cassandra), so a second clone must sign with the keys the first
 * one started the server with. They were kept per clone once, and a fresh clone's tests got 403 from a server
 * started by another.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultAddresses } from './manager.ts';
import { s3Credentials } from './s3.ts';

describe('local S3 credentials', () => {
  let cache: string;
  const saved = { ...process.env };

  beforeEach(() => {
    cache = mkdtempSync(path.join(os.tmpdir(), 's3-creds-'));
    process.env.CHAT_LOCAL_CACHE = cache;
    delete process.env.S3_ACCESS_KEY_ID;
    delete process.env.S3_SECRET_ACCESS_KEY;
  });
  afterEach(() => {
    process.env = { ...saved };
    rmSync(cache, { recursive: true, force: true });
  });

  it('are generated once into the shared cache (0600) and the same for every clone', () => {
    process.env.CHAT_LOCAL_DIR = path.join(cache, 'clone-a', '.local');
    const a = defaultAddresses().s3Credentials;
    process.env.CHAT_LOCAL_DIR = path.join(cache, 'clone-b', '.local');
    const b = defaultAddresses().s3Credentials;
    expect(b).toEqual(a);
    expect(a.accessKeyId).toMatch(/^LOCAL[0-9A-F]{16}$/);
    const file = path.join(cache, 'conf', 's3', 'credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('come from S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY when both are set (an S3 server of your own)', () => {
    process.env.S3_ACCESS_KEY_ID = 'MINE';
    process.env.S3_SECRET_ACCESS_KEY = 'secret';
    expect(s3Credentials()).toEqual({ accessKeyId: 'MINE', secretAccessKey: 'secret' });
  });
});
