import { createUser, findByUsername, getUser } from '#adapters/cql/users.ts';
import type { AuthPorts } from '#core/auth.ts';
import { signAccessToken } from './jwt.ts';
import { hashPassword, verifyPassword } from './password.ts';
import { beginLoginAttempt } from './rate-limit.ts';
import { revokeSession, rotateRefreshToken, startSession } from './refresh-tokens.ts';

/** The auth core wired to the real world: CQL users and sessions, scrypt, jose, Redis rate limits. */
export const authPorts: AuthPorts = {
  createUser,
  findByUsername,
  getUser,
  hashPassword,
  verifyPassword,
  signAccessToken: (userId, sessionId) => signAccessToken(userId, sessionId),
  startSession: (userId) => startSession(userId),
  rotateRefreshToken: (token) => rotateRefreshToken(token),
  revokeSession,
  beginLoginAttempt,
};
