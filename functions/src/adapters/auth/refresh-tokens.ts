import { createHash, randomBytes } from 'node:crypto';
import { lwt, read, write } from '#adapters/cql/client.ts';
import { ChatError } from '#core/errors.ts';
import { newId } from '#core/ids.ts';
import { config } from '#platform/config.ts';
import { logger } from '#platform/log.ts';
import { closeSessionSockets } from '../session-sockets.ts';
import { forgetSession } from './sessions.ts';

/**
 * Refresh tokens: 256 random bits, base64url, opaque to clients. Only their SHA-256 is stored
 * (`refresh_tokens.token_hash`), so a database leak yields no usable token. Each sign-in starts a family
 * (`token_families`, the session); every refresh marks the presented token used (an LWT, so two concurrent uses
 * cannot both win) and issues the next token of the family. A token presented again after its use is a replay
 * (stolen, or a client bug): the whole family is revoked, which ends the session for the thief and the owner.
 */

export interface IssuedRefreshToken {
  refreshToken: string;
  sessionId: string;
  expiresAt: Date;
}

const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

const invalid = (why: string) => {
  logger.info('refresh token refused', { reason: why });
  return new ChatError('invalid_refresh_token');
};

async function issueInFamily(userId: string, sessionId: string, now: Date): Promise<IssuedRefreshToken> {
  const refreshToken = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + config.refreshTokenTtlSeconds() * 1000);
  await write(
    'INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)',
    [hashToken(refreshToken), userId, sessionId, expiresAt, now],
  );
  return { refreshToken, sessionId, expiresAt };
}

/** A new session (token family) for the user, with its first refresh token. */
export async function startSession(userId: string, now: Date = new Date()): Promise<IssuedRefreshToken> {
  const sessionId = newId(now.getTime());
  await write('INSERT INTO token_families (family_id, user_id, revoked, created_at) VALUES (?, ?, ?, ?)', [
    sessionId,
    userId,
    false,
    now,
  ]);
  return issueInFamily(userId, sessionId, now);
}

/**
 * Ends a session: marked revoked (refresh refused; its access tokens refused within the session check's cache
 * bound, sessions.ts), and its open sockets told and closed (session-sockets.ts). A failure to reach the sockets
 * is logged: the revocation itself stands, and the sockets' owner is refused at its next ticket.
 */
async function revokeFamily(sessionId: string, userId: string): Promise<void> {
  await write('UPDATE token_families SET revoked = ? WHERE family_id = ?', [true, sessionId]);
  forgetSession(sessionId);
  await closeSessionSockets(userId, sessionId).catch((error: unknown) =>
    logger.warn('session revoked, but its sockets could not be closed', { sessionId, error }),
  );
}

/**
 * Exchange a refresh token for the next one of its session. Unknown, expired, revoked or already used tokens
 * throw `invalid_refresh_token`; an already used one also revokes its whole session.
 */
export async function rotateRefreshToken(
  token: string,
  now: Date = new Date(),
): Promise<{ userId: string; next: IssuedRefreshToken }> {
  const tokenHash = hashToken(token);
  const rs = await read(
    'SELECT user_id, family_id, expires_at, used_at FROM refresh_tokens WHERE token_hash = ?',
    [tokenHash],
  );
  const row = rs.first();
  // A row whose TTL removed all but a later-written cell (used_at outlives the rest by up to a token's
  // lifetime) has no family: it is as unknown as a missing one.
  if (!row?.family_id || !row.user_id) throw invalid('unknown');
  const userId: string = row.user_id;
  const sessionId: string = row.family_id;
  const family = (await read('SELECT revoked FROM token_families WHERE family_id = ?', [sessionId])).first();
  if (!family || family.revoked === true) throw invalid('session revoked');
  if (row.used_at) {
    await revokeFamily(sessionId, userId);
    logger.warn('refresh token reused: session revoked', { userId, sessionId });
    throw invalid('reused');
  }
  if (!(row.expires_at instanceof Date) || row.expires_at.getTime() <= now.getTime())
    throw invalid('expired');
  const claim = await lwt('UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? IF used_at = null', [
    now,
    tokenHash,
  ]);
  if (!claim.applied) {
    await revokeFamily(sessionId, userId);
    logger.warn('refresh token used twice concurrently: session revoked', { userId, sessionId });
    throw invalid('reused');
  }
  return { userId, next: await issueInFamily(userId, sessionId, now) };
}

/** Logout: revoke the session the token belongs to. Unknown tokens are ignored (logout is idempotent). */
export async function revokeSession(token: string): Promise<void> {
  const row = (
    await read('SELECT family_id, user_id FROM refresh_tokens WHERE token_hash = ?', [hashToken(token)])
  ).first();
  if (row?.family_id && row.user_id) await revokeFamily(row.family_id, row.user_id);
}
