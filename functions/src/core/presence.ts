import { mapLimit } from '@chat/kit/async';
import type { PresenceEvent } from '#contracts/ws.ts';
import type { RealtimePorts, RemovedConnection } from './ports.ts';

/**
 * Connections and presence: `$connect`, `$disconnect`, the sweeper, and what happens when a push finds a
 * connection gone. A user is online while they have a live connection; contacts (everyone who shares a
 * conversation with them) hear `presence` when that changes.
 */

/** Cap on users announced offline per call (gone connections found while announcing cascade). */
const MAX_OFFLINE_CASCADE = 200;

/** Records a new connection; a user's first connection announces them online to their contacts. */
export async function connect(
  ports: RealtimePorts,
  input: { connectionId: string; userId: string },
): Promise<{ firstConnection: boolean }> {
  const now = ports.now();
  const result = await ports.addConnection(input.connectionId, input.userId, now);
  if (result.firstConnection) {
    // Best effort: presence is a courtesy, a failure here must not refuse the connection. The new connection
    // itself is not pushed to (API Gateway answers 410 during `$connect`); it is not a contact of itself.
    try {
      const gone = await announce(ports, input.userId, { online: true, lastSeenAt: null });
      await announceGone(ports, gone);
    } catch (error) {
      ports.log.error('presence: online announcement failed', { userId: input.userId, error });
    }
  }
  return result;
}

/** Forgets a connection; the user's last one takes them offline (last seen now). */
export async function disconnect(ports: RealtimePorts, input: { connectionId: string }): Promise<void> {
  const now = ports.now();
  const removed = await ports.removeConnection(input.connectionId, now);
  if (removed?.lastConnection) await announceGone(ports, [{ ...removed, lastActiveAt: now }]);
}

/**
 * Removes every connection whose TTL lapsed (its client stopped sending frames; `$disconnect` may never have
 * come), closes it on the gateway, and announces offline users (last seen = their last frame).
 */
export async function sweep(ports: RealtimePorts, options: { batch?: number; maxBatches?: number } = {}) {
  const batch = options.batch ?? 500;
  let removedCount = 0;
  let offline = 0;
  for (let round = 0; round < (options.maxBatches ?? 20); round++) {
    const now = ports.now();
    const ids = await ports.lapsedConnections(now, batch);
    if (ids.length === 0) break;
    const removed = await mapLimit(ids, 16, async (connectionId) => {
      const r = await ports.removeConnection(connectionId, now);
      await ports.closeConnection(connectionId);
      return r;
    });
    const gone = removed.filter((r): r is RemovedConnection => r !== null);
    removedCount += gone.length;
    offline += await announceGone(ports, gone);
    if (ids.length < batch) break;
  }
  return { removed: removedCount, offline };
}

/**
 * Handles connections a push found gone: users left without a live connection are marked offline and their
 * contacts told. Announcing can find more gone connections; those are followed too, each user once, bounded.
 * Returns how many users went offline.
 */
export async function announceGone(
  ports: RealtimePorts,
  gone: readonly RemovedConnection[],
): Promise<number> {
  const queue = gone.filter((g) => g.lastConnection);
  const done = new Set<string>();
  while (queue.length > 0 && done.size < MAX_OFFLINE_CASCADE) {
    const g = queue.shift() as RemovedConnection;
    if (done.has(g.userId)) continue;
    done.add(g.userId);
    await ports.setLastSeen(g.userId, g.lastActiveAt);
    const more = await announce(ports, g.userId, {
      online: false,
      lastSeenAt: new Date(g.lastActiveAt).toISOString(),
    });
    queue.push(...more.filter((m) => m.lastConnection && !done.has(m.userId)));
  }
  return done.size;
}

/** Tells a user's contacts their presence; returns connections found gone meanwhile. */
async function announce(
  ports: RealtimePorts,
  userId: string,
  state: { online: boolean; lastSeenAt: string | null },
): Promise<readonly RemovedConnection[]> {
  const contacts = (await ports.contactIds(userId)).filter((c) => c !== userId);
  if (contacts.length === 0) return [];
  const event: PresenceEvent = { type: 'presence', userId, ...state };
  const result = await ports.pushToUsers(contacts, event);
  return result.gone;
}
