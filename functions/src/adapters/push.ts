import { mapLimit } from '@chat/kit/async';
import type { ServerEvent } from '#contracts/ws.ts';
import type { PushResult } from '#core/ports.ts';
import { config } from '#platform/config.ts';
import { logger } from '#platform/log.ts';
import { ManagementApiClient } from './management-api.ts';
import {
  type ConnectionRef,
  connectionsOf,
  type RemovedConnection,
  removeConnection,
} from './redis/connections.ts';

/**
 * Pushes server events to WebSocket connections through the API Gateway management API (the local emulator
 * serves the same API). One client per execution environment (per endpoint, so a test that points a fresh
 * environment elsewhere gets a new one), keep-alive sockets, short timeouts: a slow client must not hold a
 * Kafka batch. The client is our lean SigV4 one (management-api.ts), not the SDK's: pushing is the hot path.
 */

let cached: { endpoint: string; client: ManagementApiClient } | undefined;

export function managementApi(): ManagementApiClient {
  const endpoint = config.wsManagementEndpoint();
  if (!cached || cached.endpoint !== endpoint) {
    cached?.client.destroy();
    cached = {
      endpoint,
      client: new ManagementApiClient({
        endpoint,
        region: config.awsRegion(),
        maxSockets: 64,
        connectTimeoutMs: 2_000,
        requestTimeoutMs: 5_000,
      }),
    };
  }
  return cached.client;
}

/** A 410 for a connection registered this recently may be its `$connect` still running (the limit is 29 s). */
const CONNECT_GRACE_MS = 30_000;

export type { PushResult };

export const emptyPush: PushResult = { delivered: 0, failed: 0, gone: [] };

export interface PushOptions {
  /** Parallel PostToConnection calls. Default 32. */
  readonly concurrency?: number;
}

const isGone = (e: unknown): boolean => {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err?.name === 'GoneException' || err?.$metadata?.httpStatusCode === 410;
};

/** Pauses before the second and third round for connections whose push failed transiently. */
const RETRY_ROUNDS_MS = [300, 1_500];

const isSlowClient = (e: unknown): boolean => {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err?.name === 'LimitExceededException' || err?.$metadata?.httpStatusCode === 429;
};

/**
 * Sends the events, in order, to each connection. Per connection: 410 ⇒ the connection is removed from Redis
 * (and reported in `gone`); 429 (the client is not reading: more than API Gateway buffers for it) ⇒ counted in
 * `failed`, the rest of that connection's events skipped (it catches up from history when it reconnects); any
 * other failure (timeout, 5xx, network) is transient: that connection is tried again from the event that
 * failed, twice more after a pause (`RETRY_ROUNDS_MS`), then counted in `failed`. A push given up is a live
 * delivery lost until the client reconnects, so it is not given up at the first timeout of an overloaded API.
 * Only a Redis failure while removing a gone connection rejects.
 */
export async function pushToConnections(
  targets: readonly (string | ConnectionRef)[],
  events: ServerEvent | readonly ServerEvent[],
  options: PushOptions = {},
): Promise<PushResult> {
  const list = Array.isArray(events) ? (events as readonly ServerEvent[]) : [events as ServerEvent];
  if (targets.length === 0 || list.length === 0) return emptyPush;
  const payloads = list.map((e) => Buffer.from(JSON.stringify(e), 'utf8'));
  const api = managementApi();
  let delivered = 0;
  let failed = 0;
  const gone: RemovedConnection[] = [];
  /** Connection id → index of the next event it has not received. */
  let pending = new Map<string, number>(
    targets.map((t) => [typeof t === 'string' ? t : t.connectionId, 0] as const),
  );
  for (let round = 0; pending.size > 0; round++) {
    const retry = new Map<string, number>();
    const lastRound = round >= RETRY_ROUNDS_MS.length;
    await mapLimit([...pending], options.concurrency ?? 32, async ([connectionId, from]) => {
      for (let i = from; i < payloads.length; i++) {
        try {
          await api.postToConnection(connectionId, payloads[i] as Buffer);
          delivered++;
        } catch (error) {
          if (isGone(error)) {
            // API Gateway also answers 410 while a connection's `$connect` is still running, and the registry
            // already lists it then: a connection younger than the grace period is not removed (if it really
            // vanished, a later push or the sweeper removes it).
            const now = Date.now();
            const removed = await removeConnection(connectionId, now, {
              onlyIfConnectedBefore: now - CONNECT_GRACE_MS,
            });
            if (removed) gone.push(removed);
            else failed++;
            logger.info(
              removed ? 'push: connection gone, removed' : 'push: connection gone (or still connecting)',
              { connectionId },
            );
            return;
          }
          const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
          const giveUp = lastRound || isSlowClient(error);
          if (giveUp) failed++;
          else retry.set(connectionId, i);
          logger.warn(
            giveUp ? 'push: delivery failed, skipping connection' : 'push: delivery failed, will retry',
            {
              connectionId,
              round,
              errorName: e?.name,
              errorCode: e?.code,
              statusCode: e?.$metadata?.httpStatusCode,
            },
          );
          return;
        }
      }
    });
    pending = retry;
    const pause = RETRY_ROUNDS_MS[round];
    if (pending.size > 0 && pause !== undefined) await new Promise((r) => setTimeout(r, pause));
  }
  return { delivered, failed, gone };
}

/** Sends the events to every live connection of the users (optionally but one connection). */
export async function pushToUsers(
  userIds: readonly string[],
  events: ServerEvent | readonly ServerEvent[],
  options: PushOptions & { exceptConnectionId?: string } = {},
): Promise<PushResult> {
  if (userIds.length === 0) return emptyPush;
  const targets = (await connectionsOf(userIds)).filter((c) => c.connectionId !== options.exceptConnectionId);
  return pushToConnections(targets, events, options);
}

/** Closes a connection from the server side (best effort: an already gone connection is fine). */
export async function closeConnection(connectionId: string): Promise<void> {
  try {
    await managementApi().deleteConnection(connectionId);
  } catch (error) {
    if (!isGone(error)) {
      logger.warn('push: could not close connection', {
        connectionId,
        errorName: (error as Error)?.name,
      });
    }
  }
}
