import { sweepPendingUploads } from '#adapters/attachments.ts';
import { realtimePorts } from '#adapters/realtime.ts';
import { sweep } from '#core/presence.ts';
import { config } from '#platform/config.ts';
import { beginInvocation, type LambdaContextLike } from '#platform/invocation.ts';
import { logger } from '#platform/log.ts';

/**
 * Scheduled (EventBridge, every minute on AWS; the local runtime's scheduler here): removes connections whose
 * TTL lapsed, closes them, and announces offline presence for users left with none. With
 * ATTACHMENTS_SWEEP_PENDING (the local runtime), also deletes uploads no message referenced within a day, as the
 * bucket's lifecycle rule does on AWS.
 */
export const handler = async (
  _event?: unknown,
  context?: LambdaContextLike,
): Promise<{ removed: number; offline: number }> => {
  beginInvocation(context);
  const result = await sweep(realtimePorts);
  if (result.removed > 0) logger.info('sweeper: removed lapsed connections', result);
  if (config.attachmentsSweepPending()) {
    const deleted = await sweepPendingUploads(Date.now()).catch((error: unknown) => {
      logger.warn('sweeper: sweeping pending uploads failed', { error });
      return [];
    });
    if (deleted.length > 0)
      logger.info('sweeper: deleted expired pending uploads', { count: deleted.length });
  }
  return result;
};
