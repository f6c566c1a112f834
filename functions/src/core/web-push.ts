import { mapLimit } from '@chat/kit/async';
import type { NotificationRecord } from '#contracts/kafka.ts';
import type { PushPayload } from '#contracts/notifications.ts';
import { planPushes } from './notifications.ts';
import type { Log } from './ports.ts';

/**
 * The webPush consumer's work (docs/adr/0010-web-push.md), pure over its ports: for each notification record,
 * read the conversation's heading, the senders' names, who muted it and who hides previews; plan the pushes
 * (core/notifications.ts, planPushes); send each to every subscription of its recipient, skipping those an
 * earlier attempt already sent (Kafka redelivers). 404/410 forgets the subscription; a transient failure is
 * tried again, at most `policy.attempts` times in all, within the batch's deadline; then it is given up
 * (logged). Only a store failure rejects (the batch is retried).
 */

export interface Subscription {
  readonly endpointId: string;
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
}

export type Outcome =
  | { readonly kind: 'sent' | 'gone'; readonly status: number }
  | { readonly kind: 'transient' | 'permanent'; readonly status?: number; readonly reason: string };

export interface WebPushPorts {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: Log;
  readonly heading: (conversationId: string) => Promise<{ groupTitle: string | null } | null>;
  readonly displayNames: (userIds: readonly string[]) => Promise<Map<string, string>>;
  readonly mutedMembers: (conversationId: string, userIds: readonly string[]) => Promise<Set<string>>;
  readonly hidingPreview: (userIds: readonly string[]) => Promise<Set<string>>;
  readonly subscriptionsOf: (userId: string) => Promise<Subscription[]>;
  /** The endpoint ids among `endpointIds` already sent this message for this user. */
  readonly alreadySent: (
    userId: string,
    messageId: string,
    endpointIds: readonly string[],
  ) => Promise<Set<string>>;
  readonly markSent: (userId: string, messageId: string, endpointId: string) => Promise<void>;
  readonly removeSubscription: (userId: string, endpointId: string) => Promise<void>;
  readonly send: (sub: Subscription, payload: PushPayload, timeoutMs: number) => Promise<Outcome>;
}

export interface DeliveryPolicy {
  /** Tries per notification and subscription, the first included. */
  readonly attempts: number;
  /** Pause before try n+1: `backoffMs[n-1]` (the last repeats). */
  readonly backoffMs: readonly number[];
  /** Per request. */
  readonly requestTimeoutMs: number;
  /** Parallel sends. */
  readonly concurrency: number;
}

export const deliveryPolicy: DeliveryPolicy = {
  attempts: 3,
  backoffMs: [500, 2_000],
  requestTimeoutMs: 5_000,
  concurrency: 16,
};

export interface DeliveryResult {
  readonly planned: number;
  readonly sent: number;
  readonly skipped: number;
  readonly gone: number;
  readonly failed: number;
}

/** Delivers a batch of notification records by `deadline` (epoch ms). */
export async function deliverNotifications(
  ports: WebPushPorts,
  records: readonly NotificationRecord[],
  deadline: number,
  policy: DeliveryPolicy = deliveryPolicy,
): Promise<DeliveryResult> {
  let planned = 0;
  let sent = 0;
  let skipped = 0;
  let gone = 0;
  let failed = 0;
  interface Job {
    userId: string;
    sub: Subscription;
    payload: PushPayload;
  }
  const jobs: Job[] = [];
  for (const record of records) {
    const heading = await ports.heading(record.conversationId);
    if (heading === null) {
      ports.log.warn('webPush: conversation not found; notifications dropped', {
        conversationId: record.conversationId,
      });
      continue;
    }
    const [names, muted, hidePreview] = await Promise.all([
      ports.displayNames([...new Set(record.messages.map((m) => m.senderId))]),
      ports.mutedMembers(record.conversationId, record.userIds),
      ports.hidingPreview(record.userIds),
    ]);
    const plan = planPushes(record, { groupTitle: heading.groupTitle, names, muted, hidePreview });
    planned += plan.length;
    const subsByUser = new Map<string, Subscription[]>();
    for (const userId of new Set(plan.map((p) => p.userId))) {
      subsByUser.set(userId, await ports.subscriptionsOf(userId));
    }
    for (const p of plan) {
      const subs = subsByUser.get(p.userId) ?? [];
      if (subs.length === 0) continue;
      const done = await ports.alreadySent(
        p.userId,
        p.payload.messageId,
        subs.map((s) => s.endpointId),
      );
      for (const sub of subs) {
        if (done.has(sub.endpointId)) skipped++;
        else jobs.push({ userId: p.userId, sub, payload: p.payload });
      }
    }
  }
  await mapLimit(jobs, policy.concurrency, async (job) => {
    for (let attempt = 1; ; attempt++) {
      const left = deadline - ports.now();
      if (left <= 0) {
        failed++;
        ports.log.warn('webPush: deadline spent; notification given up', { endpointId: job.sub.endpointId });
        return;
      }
      const outcome = await ports.send(job.sub, job.payload, Math.min(policy.requestTimeoutMs, left));
      if (outcome.kind === 'sent') {
        sent++;
        await ports.markSent(job.userId, job.payload.messageId, job.sub.endpointId);
        return;
      }
      if (outcome.kind === 'gone') {
        gone++;
        await ports.removeSubscription(job.userId, job.sub.endpointId);
        ports.log.info('webPush: subscription gone, removed', {
          endpointId: job.sub.endpointId,
          status: outcome.status,
        });
        return;
      }
      const details = {
        endpointId: job.sub.endpointId,
        attempt,
        status: outcome.status,
        reason: 'reason' in outcome ? outcome.reason : undefined,
      };
      if (outcome.kind === 'permanent' || attempt >= policy.attempts) {
        failed++;
        ports.log.warn('webPush: notification given up', details);
        return;
      }
      ports.log.warn('webPush: send failed; trying again', details);
      const pause = policy.backoffMs[Math.min(attempt, policy.backoffMs.length) - 1] ?? 0;
      if (ports.now() + pause >= deadline) {
        failed++;
        ports.log.warn('webPush: no time left for another try; notification given up', details);
        return;
      }
      await ports.sleep(pause);
    }
  });
  return { planned, sent, skipped, gone, failed };
}
