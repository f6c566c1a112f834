/** kafkajs's per-connection request queue (not part of its typed API; see request-queue.ts). */
declare module 'kafkajs/src/network/requestQueue/index.js' {
  interface RequestQueue {
    pending: unknown[];
    throttledUntil: number;
    checkPendingRequests(): void;
    scheduleCheckPendingRequests(): void;
  }
  const RequestQueue: { prototype: RequestQueue };
  export default RequestQueue;
}
