/**
 * `--push-slow MS` / `--push-status CODE` (issue 15): members who are away, with Web Push subscriptions at a push
 * service that is slow or failing, so the run measures whether that delays WebSocket deliveries (it must not:
 * pushes go through the notifications topic to the webPush consumer, docs/adr/0010-web-push.md).
 *
 * One away user per group joins it (added by the group's creator) and never connects; its subscription points at
 * a push service emulator in the bench process, told to answer after `delayMs` and/or with `status`. Every
 * group message then makes one notification for the webPush consumer to send into the slow service.
 */
import { createECDH, randomBytes } from 'node:crypto';
import type { Conversation } from '@chat/functions/contracts';
import { mapLimit } from '@chat/kit/async';
import { type PushServiceEmulator, startPushService } from '@chat/local/runtime';
import type { Api } from './client.ts';
import { log } from './progress.ts';
import { BENCH_PASSWORD, retrying, type World } from './world.ts';

export interface PushAwayOptions {
  /** The push service answers after this long (a slow service). */
  readonly delayMs?: number;
  /** The push service answers this status (e.g. 500: failing; the sender tries 3 times). */
  readonly status?: number;
}

export interface PushAwayReport {
  readonly delayMs: number;
  readonly status: number;
  readonly awayUsers: number;
  /** Requests the push service received during the run, by status it answered. */
  readonly received: number;
  readonly byStatus: Record<string, number>;
}

export interface PushAway {
  report(): PushAwayReport;
  stop(): Promise<void>;
}

export async function addAwayMembers(world: World, api: Api, opts: PushAwayOptions): Promise<PushAway> {
  const push: PushServiceEmulator = await startPushService();
  push.setBehavior('*', {
    ...(opts.delayMs ? { delayMs: opts.delayMs } : {}),
    ...(opts.status ? { status: opts.status } : {}),
  });
  const groups = world.conversations.filter((c) => c.type === 'group');
  await mapLimit(groups, 8, async (g, i) => {
    const username = `b${world.opts.runId}_away${i}`;
    const away = await retrying(() => api.signup(username, BENCH_PASSWORD));
    // The keys a browser makes (a P-256 key pair, a 16-byte auth secret); the bench never decrypts.
    const keys = {
      p256dh: createECDH('prime256v1').generateKeys().toString('base64url'),
      auth: randomBytes(16).toString('base64url'),
    };
    const endpoint = push.newEndpoint();
    await retrying(() => api.call('POST', '/me/push-subscriptions', { endpoint, keys }, away.accessToken));
    const creator = world.users[g.members[0] as number];
    if (!creator) throw new Error(`group ${g.idx} has no creator`);
    await retrying(() =>
      api.call<Conversation>(
        'POST',
        `/conversations/${encodeURIComponent(g.id)}/members`,
        { memberIds: [away.user.id] },
        creator.accessToken,
      ),
    );
  });
  log(
    `push: ${groups.length} away members with subscriptions at ${push.origin} (answers ${opts.status ?? 201}` +
      `${opts.delayMs ? ` after ${opts.delayMs} ms` : ''})`,
  );
  return {
    report: () => {
      const byStatus: Record<string, number> = {};
      for (const r of push.received()) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      return {
        delayMs: opts.delayMs ?? 0,
        status: opts.status ?? 201,
        awayUsers: groups.length,
        received: push.received().length,
        byStatus,
      };
    },
    stop: () => push.close(),
  };
}
