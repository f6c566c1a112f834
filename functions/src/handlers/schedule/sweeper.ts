import { realtimePorts } from '#adapters/realtime.ts';
import { sweep } from '#core/presence.ts';
import { beginInvocation, type LambdaContextLike } from '#platform/invocation.ts';
import { logger } from '#platform/log.ts';

/**
 * Scheduled (EventBridge, every minute on AWS; the local runtime's scheduler here): removes connections whose
 * TTL lapsed, closes them, and announces offline presence for users left with none.
 */
export const handler = async (
  _event?: unknown,
  context?: LambdaContextLike,
): Promise<{ removed: number; offline: number }> => {
  beginInvocation(context);
  const result = await sweep(realtimePorts);
  if (result.removed > 0) logger.info('sweeper: removed lapsed connections', result);
  return result;
};
