/// <reference path="./kafkajs-request-queue.d.ts" />
import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';

/**
 * kafkajs 2.2.4 (its latest release) keeps every broker connection busy while it is idle: once a request has been
 * answered, its request queue's `scheduleCheckPendingRequests` arms a timer at `throttledUntil - now`, a negative
 * delay (Node runs it after 1 ms) even with nothing pending and no throttling, and the timer's check arms it
 * again. So each connection wakes its thread about a thousand times a second, forever (kafkajs issues #1556,
 * #1704; the fix, PR #1667, is not released). Measured here: an idle producer's process spent 538 ms of CPU in
 * 10 s (5 % of a core) against 61 ms with this change. Locally every warm execution environment holding a
 * producer, and the event source's consumers, paid that all the time; on Lambda it runs during invocations.
 *
 * The change: with nothing pending and no throttle in force there is nothing to check later, so no timer. A
 * request that cannot go out at once is queued (`pending`) and schedules its check as before, and a throttle
 * still schedules one for when it ends; the queue is also checked whenever an answer arrives. Applied once per
 * module instance (the functions' bundles and the local runtime import it before they make a client).
 */
const proto = RequestQueue.prototype;
const PATCHED = Symbol.for('chat.kafkajs.idleRequestQueue');
type Patched = typeof proto & { [PATCHED]?: true };

if (typeof proto.scheduleCheckPendingRequests !== 'function') {
  throw new Error('kafkajs: RequestQueue.scheduleCheckPendingRequests not found (see request-queue.ts)');
}
if (!(proto as Patched)[PATCHED]) {
  const original = proto.scheduleCheckPendingRequests;
  proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: typeof proto) {
    if (this.pending.length === 0 && !(this.throttledUntil > Date.now())) return;
    original.call(this);
  };
  (proto as Patched)[PATCHED] = true;
}

/** Whether this process's kafkajs has the change (for the test that checks it stays applied). */
export const idleRequestQueueFixed = (): boolean => (proto as Patched)[PATCHED] === true;
