import { randomBytes } from 'node:crypto';
import { limits } from '#contracts/limits.ts';
import { redis } from './client.ts';
import { ticketKey } from './keys.ts';

/**
 * One-time WebSocket tickets. The HTTP API (POST /auth/ws-ticket, authenticated with the JWT) issues one; the
 * `$connect` handler consumes it. A ticket is 32 random bytes (base64url); Redis keeps only its SHA-256 hash,
 * so a Redis dump holds no usable ticket. Single use: GETDEL is atomic, so two sockets racing with the same
 * ticket cannot both win.
 */

const key = ticketKey;

export async function issueTicket(
  userId: string,
  now: number = Date.now(),
): Promise<{ ticket: string; expiresAt: string }> {
  const ticket = randomBytes(32).toString('base64url');
  const ttl = limits.wsTicketTtlSeconds;
  await redis().set(key(ticket), userId, 'EX', ttl);
  return { ticket, expiresAt: new Date(now + ttl * 1000).toISOString() };
}

/** The ticket's user, or null when it is unknown, expired or already used. Never throws on a bad ticket. */
export async function consumeTicket(ticket: string | undefined | null): Promise<{ userId: string } | null> {
  if (!ticket || ticket.length > 128) return null;
  const userId = await redis().getdel(key(ticket));
  return userId ? { userId } : null;
}
