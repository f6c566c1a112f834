import { createUser, findByUsername, getUser, updatePasswordHash } from '#adapters/cql/users.ts';
import type { AuthPorts } from '#core/auth.ts';
import { signAccessToken } from './jwt.ts';
import { hashPassword, needsRehash, verifyPassword } from './password.ts';
import { beginLogin, enforce } from './rate-limit.ts';
import { revokeSession, rotateRefreshToken, startSession } from './refresh-tokens.ts';

/** The auth core wired to the real world: CQL users and sessions, scrypt, jose, Redis rate limits. */
export const authPorts: AuthPorts = {
  createUser,
  findByUsername,
  getUser,
  hashPassword,
  verifyPassword,
  needsRehash,
  updatePasswordHash,
  admitSignup: (ip) => enforce('signupPerIp', ip),
  signAccessToken: (userId, sessionId) => signAccessToken(userId, sessionId),
  startSession: (userId) => startSession(userId),
  rotateRefreshToken: (token) => rotateRefreshToken(token),
  revokeSession,
  beginLoginAttempt: (username, ip) => beginLogin(username, ip),
};
