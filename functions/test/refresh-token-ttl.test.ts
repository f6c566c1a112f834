/**
 * `refresh_tokens` expires by a table TTL (Keyspaces, docs/deploy.md). The `used_at` cell is written after the
 * row, so it can outlive the row's other cells: a replayed token then finds a stub with no family. It must be
 * refused like an unknown token (401), never reach a query with a null key (500).
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { rotateRefreshToken } from '#adapters/auth/refresh-tokens.ts';
import { closeCql, write } from '#adapters/cql/client.ts';
import { ChatError } from '#core/errors.ts';

afterAll(async () => {
  await closeCql();
});

it('refuses a token whose row the TTL left as a used_at stub, as unknown', async () => {
  const token = randomBytes(32).toString('base64url');
  const hash = createHash('sha256').update(token, 'utf8').digest('hex');
  await write('UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?', [new Date(), hash]);
  const err = await rotateRefreshToken(token).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ChatError);
  expect((err as ChatError).code).toBe('invalid_refresh_token');
});
