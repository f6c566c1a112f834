import type { AuthResponse, LoginBody, SignupBody } from '#contracts/http.ts';
import type { User } from '#contracts/models.ts';
import { ChatError } from './errors.ts';

/**
 * Accounts and sessions. Pure: it works through the ports below, which `adapters/auth/ports.ts` wires to
 * scrypt, jose, the CQL store and Redis (and tests may wire fakes).
 */

export interface IssuedRefresh {
  refreshToken: string;
  sessionId: string;
}

export interface AuthPorts {
  createUser(input: {
    username: string;
    displayName?: string | undefined;
    passwordHash: string;
  }): Promise<User>;
  findByUsername(username: string): Promise<(User & { passwordHash: string }) | null>;
  getUser(id: string): Promise<User | null>;
  hashPassword(password: string): Promise<string>;
  /** Constant-time; with `stored = null` does the same work and returns false. */
  verifyPassword(password: string, stored: string | null): Promise<boolean>;
  /** The stored hash was made with other parameters than today's (rehash it at login). */
  needsRehash(stored: string): boolean;
  updatePasswordHash(userId: string, passwordHash: string): Promise<void>;
  /** Counts a sign-up against the client IP's budget; throws `too_many_requests` when over. */
  admitSignup(ip: string): Promise<void>;
  signAccessToken(userId: string, sessionId: string): Promise<{ accessToken: string; expiresAt: Date }>;
  startSession(userId: string): Promise<IssuedRefresh>;
  rotateRefreshToken(token: string): Promise<{ userId: string; next: IssuedRefresh }>;
  revokeSession(token: string): Promise<void>;
  beginLoginAttempt(
    username: string,
    ip: string,
  ): Promise<{
    allowed: boolean;
    retryAfterSeconds: number;
    succeeded(): Promise<void>;
    failed(): Promise<void>;
  }>;
}

async function tokensFor(ports: AuthPorts, user: User, session: IssuedRefresh): Promise<AuthResponse> {
  const { accessToken, expiresAt } = await ports.signAccessToken(user.id, session.sessionId);
  return { user, accessToken, refreshToken: session.refreshToken, expiresAt: expiresAt.toISOString() };
}

export async function signup(ports: AuthPorts, body: SignupBody, ip: string): Promise<AuthResponse> {
  await ports.admitSignup(ip);
  const passwordHash = await ports.hashPassword(body.password);
  const user = await ports.createUser({
    username: body.username,
    displayName: body.displayName,
    passwordHash,
  });
  return tokensFor(ports, user, await ports.startSession(user.id));
}

/**
 * Unknown user and wrong password give the same `invalid_credentials` after the same scrypt work; attempts are
 * limited per IP and slowed down per (username, IP) pair (`too_many_requests` with a retry delay), checked
 * before any password work. A hash made with older parameters is replaced by one with today's (the password is
 * at hand only now); a failure to store it does not fail the login.
 */
export async function login(ports: AuthPorts, body: LoginBody, ip: string): Promise<AuthResponse> {
  const username = body.username.trim().toLowerCase();
  const attempt = await ports.beginLoginAttempt(username, ip);
  if (!attempt.allowed) {
    throw new ChatError('too_many_requests', undefined, { retryAfterSeconds: attempt.retryAfterSeconds });
  }
  const record = await ports.findByUsername(username);
  const ok = await ports.verifyPassword(body.password, record?.passwordHash ?? null);
  if (!record || !ok) {
    await attempt.failed();
    throw new ChatError('invalid_credentials');
  }
  await attempt.succeeded();
  if (ports.needsRehash(record.passwordHash)) {
    await ports.updatePasswordHash(record.id, await ports.hashPassword(body.password));
  }
  const { passwordHash: _hash, ...user } = record;
  return tokensFor(ports, user, await ports.startSession(user.id));
}

export async function refresh(ports: AuthPorts, refreshToken: string): Promise<AuthResponse> {
  const { userId, next } = await ports.rotateRefreshToken(refreshToken);
  const user = await ports.getUser(userId);
  if (!user) throw new ChatError('invalid_refresh_token');
  return tokensFor(ports, user, next);
}

export async function logout(ports: AuthPorts, refreshToken: string): Promise<void> {
  await ports.revokeSession(refreshToken);
}
