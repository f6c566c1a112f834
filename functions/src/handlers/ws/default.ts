import { z } from 'zod';
import { wsPorts } from '#adapters/ws-connections.ts';
import { ChatError } from '#core/errors.ts';
import { wsRoute } from '#transport/ws.ts';

/**
 * `$default`: frames that match no route. Not JSON ⇒ `invalid_json` (the wrapper); JSON with an action we do
 * not know ⇒ `unknown_action`; JSON without an action ⇒ `invalid_frame`.
 */
export const handler = wsRoute(wsPorts, z.unknown(), async (frame) => {
  const action =
    frame && typeof frame === 'object' && !Array.isArray(frame)
      ? (frame as { action?: unknown }).action
      : undefined;
  if (action === undefined || action === null) throw new ChatError('invalid_frame', 'action: required');
  // Only primitives are shown: stringifying a (possibly very deeply nested) object or array could overflow.
  const shown =
    typeof action === 'object' ? (Array.isArray(action) ? '(an array)' : '(an object)') : String(action);
  throw new ChatError('unknown_action', `Unknown action: ${shown.slice(0, 64)}`);
});
