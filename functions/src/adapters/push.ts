import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapLimit } from '@chat/kit/async';
import type { ServerEvent } from '#contracts/ws.ts';
import type { PushResult } from '#core/ports.ts';
import { config } from '#platform/config.ts';
import { invocationDeadline } from '#platform/invocation.ts';
import { logger } from '#platform/log.ts';
import { ManagementApiClient } from './management-api.ts';
import { classifyPushFailure, type PushRetryPolicy, pushRetryPolicy, retryDelay } from './push-policy.ts';
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
  /** Default: THE policy, `pushRetryPolicy`. */
  readonly policy?: PushRetryPolicy;
  /**
   * Epoch ms by which this call ends, on top of the policy's per-call deadline: a Kafka batch passes one
   * deadline to all its pushes (`FANOUT_DEADLINE_MS`), so the whole fan-out is bounded, not each call.
   */
  readonly deadline?: number;
}

/**
 * Sends the events, in order, to each connection, under THE retry policy (push-policy.ts: `pushRetryPolicy`,
 * overridable for tests). Per connection: 410 ⇒ the connection is removed from Redis (and reported in `gone`);
 * 429 (the client is not reading) or another 4xx ⇒ counted in `failed`, the rest of that connection's events
 * skipped (it catches up from history when it reconnects); a timeout, 5xx or network error ⇒ that connection
 * is tried again from the event that failed, in rounds after the policy's backoff, then counted in `failed`.
 * The whole call ends by the policy's deadline or the caller's `deadline`, whichever comes first (requests in
 * flight then are aborted; a connection not reached by then is counted in `failed`). A push given up is a
 * live delivery lost until the client reconnects (history has it). Only a Redis failure while removing a gone
 * connection rejects.
 */
export async function pushToConnections(
  targets: readonly (string | ConnectionRef)[],
  events: ServerEvent | readonly ServerEvent[],
  options: PushOptions = {},
): Promise<PushResult> {
  const list = Array.isArray(events) ? (events as readonly ServerEvent[]) : [events as ServerEvent];
  if (targets.length === 0 || list.length === 0) return emptyPush;
  const policy = options.policy ?? pushRetryPolicy;
  const start = Date.now();
  const deadline = Math.min(
    start + policy.deadlineMs,
    options.deadline ?? Number.POSITIVE_INFINITY,
    invocationDeadline(),
  );
  // AbortSignal.timeout takes a whole number of milliseconds (a fraction throws ERR_OUT_OF_RANGE).
  const signal = AbortSignal.timeout(Math.max(0, Math.floor(deadline - start)));
  setMaxListeners(0, signal); // one abort listener per request in flight
  const payloads = list.map((e) => Buffer.from(JSON.stringify(e), 'utf8'));
  const api = managementApi();
  let delivered = 0;
  let failed = 0;
  const gone: RemovedConnection[] = [];
  /** Connection id → index of the next event it has not received. */
  let pending = new Map<string, number>(
    targets.map((t) => [typeof t === 'string' ? t : t.connectionId, 0] as const),
  );
  for (let attempt = 1; pending.size > 0; attempt++) {
    const retry = new Map<string, number>();
    await mapLimit([...pending], options.concurrency ?? 32, async ([connectionId, from]) => {
      for (let i = from; i < payloads.length; i++) {
        try {
          if (signal.aborted || Date.now() >= deadline) throw signal.reason ?? new Error('push deadline');
          await api.postToConnection(connectionId, payloads[i] as Buffer, { signal });
          delivered++;
        } catch (error) {
          const failure = classifyPushFailure(error);
          if (failure === 'gone') {
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
          const details = {
            connectionId,
            attempt,
            failure,
            errorName: e?.name,
            errorCode: e?.code,
            statusCode: e?.$metadata?.httpStatusCode,
          };
          if (failure === 'transient') {
            retry.set(connectionId, i);
            logger.warn('push: delivery failed', details);
          } else {
            failed++;
            logger.warn('push: delivery failed, skipping connection', details);
          }
          return;
        }
      }
    });
    pending = retry;
    if (pending.size === 0) break;
    const pause = retryDelay(policy, 'transient', attempt, Date.now(), deadline);
    if (pause === null) {
      failed += pending.size;
      logger.warn('push: giving up on connections (attempts or deadline spent)', {
        connections: pending.size,
        attempts: attempt,
      });
      break;
    }
    await sleep(pause);
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
  const connections = await connectionsOf(userIds);
  const online = new Set(connections.map((c) => c.userId));
  const offline = userIds.filter((u) => !online.has(u));
  const targets = connections.filter((c) => c.connectionId !== options.exceptConnectionId);
  return { ...(await pushToConnections(targets, events, options)), offline };
}

/** Closes a connection from the server side (best effort: an already gone connection is fine). */
export async function closeConnection(connectionId: string): Promise<void> {
  try {
    await managementApi().deleteConnection(connectionId);
  } catch (error) {
    if (classifyPushFailure(error) !== 'gone') {
      logger.warn('push: could not close connection', {
        connectionId,
        errorName: (error as Error)?.name,
      });
    }
  }
}
