import { randomBytes } from 'node:crypto';
import { limits } from '#contracts/limits.ts';
import { redis } from './client.ts';
import { ticketKey } from './keys.ts';

/**
 * One-time WebSocket tickets. The HTTP API (POST /auth/ws-ticket, authenticated with the JWT) issues one; the
 * `$connect` handler consumes it. A ticket is 32 random bytes (base64url); Redis keeps only its SHA-256 hash,
 * so a Redis dump holds no usable ticket. Single use: GETDEL is atomic, so two sockets racing with the same
 * ticket cannot both win. The value is `<userId> <sessionId>`: the socket belongs to the sign-in session that
 * asked for it, so revoking the session closes it (adapters/session-sockets.ts).
 */

const key = ticketKey;

export async function issueTicket(
  userId: string,
  sessionId: string,
  now: number = Date.now(),
): Promise<{ ticket: string; expiresAt: string }> {
  const ticket = randomBytes(32).toString('base64url');
  const ttl = limits.wsTicketTtlSeconds;
  await redis().set(key(ticket), `${userId} ${sessionId}`, 'EX', ttl);
  return { ticket, expiresAt: new Date(now + ttl * 1000).toISOString() };
}

/**
 * The ticket's user and session, or null when it is unknown, expired or already used. Never throws on a bad
 * ticket. (A ticket issued before tickets named their session, at most 30 s before a deploy, has none.)
 */
export async function consumeTicket(
  ticket: string | undefined | null,
): Promise<{ userId: string; sessionId: string | null } | null> {
  if (!ticket || ticket.length > 128) return null;
  const value = await redis().getdel(key(ticket));
  if (!value) return null;
  const [userId = '', sessionId] = value.split(' ');
  return userId ? { userId, sessionId: sessionId || null } : null;
}
