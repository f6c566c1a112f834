/**
 * What the HTTP API and the WebSocket API servers share: listening on a port (0: an ephemeral one) and the
 * readiness gate. Until `markReady()` both answer the request or upgrade `503` with `Retry-After: 1` and
 * `NOT_READY_BODY` (the runtime is starting: functions not deployed, consumers not running), never a 500.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const NOT_READY_BODY = '{"message":"Service Unavailable"}';

export class Listener {
  #port = 0;
  #ready = false;

  constructor(readonly server: Server) {}

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    this.#port = (this.server.address() as AddressInfo).port;
    return this.#port;
  }

  get port(): number {
    return this.#port;
  }

  get ready(): boolean {
    return this.#ready;
  }

  markReady(): void {
    this.#ready = true;
  }
}
