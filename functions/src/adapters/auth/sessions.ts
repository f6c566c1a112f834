import { read } from '#adapters/cql/client.ts';
import { ChatError } from '#core/errors.ts';

/**
 * Is the session (the refresh-token family, the access token's `sid`) still live? The HTTP wrapper asks on every
 * authenticated request, so a revoked session's access tokens stop working before they expire.
 *
 * Answers are cached per execution environment: "active" for at most `SESSION_CHECK_CACHE_MS` (30 s), so an
 * access token of a revoked session is refused at most 30 s after the revocation by any warm environment
 * (at once by the one that revoked it); "revoked" for good (a session never comes back). `fresh: true` skips the
 * cache (ticket issue and `$connect`, where a 30 s window would let a new socket outlive the logout).
 */
export const SESSION_CHECK_CACHE_MS = 30_000;
const CACHE_MAX = 10_000;

const cache = new Map<string, { active: boolean; at: number }>();

/** Whether a session is still live (not revoked), from the store. */
export async function isSessionActive(sessionId: string): Promise<boolean> {
  const family = (await read('SELECT revoked FROM token_families WHERE family_id = ?', [sessionId])).first();
  return !!family && family.revoked !== true;
}

export async function sessionActive(
  sessionId: string,
  options: { fresh?: boolean; now?: number } = {},
): Promise<boolean> {
  const now = options.now ?? Date.now();
  const hit = cache.get(sessionId);
  if (hit && (!hit.active || (!options.fresh && now - hit.at < SESSION_CHECK_CACHE_MS))) return hit.active;
  const active = await isSessionActive(sessionId);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(sessionId, { active, at: now });
  return active;
}

/** Throws `unauthorized` when the session was revoked (logout, refresh-token reuse). */
export async function requireActiveSession(sessionId: string, options: { fresh?: boolean } = {}) {
  if (!(await sessionActive(sessionId, options))) {
    throw new ChatError('unauthorized', 'This session was signed out.');
  }
}

/** This environment revoked the session: refuse its tokens here at once. */
export function forgetSession(sessionId: string): void {
  cache.set(sessionId, { active: false, at: Date.now() });
}
