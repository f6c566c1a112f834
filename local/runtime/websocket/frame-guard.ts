/**
 * API Gateway limits each WebSocket frame to 32 KB (and each message to 128 KB, which `ws` enforces with
 * maxPayload). `ws` only checks message totals, so this guard reads the client's raw frame headers as they
 * arrive (it observes the socket's data, it does not consume it) and reports a data frame over the limit as
 * soon as its header is seen, before its payload is delivered.
 */
export class FrameGuard {
  readonly #maxFrameBytes: number;
  readonly #onOversize: (payloadLength: number) => void;
  #header: number[] = [];
  #skip = 0;
  #tripped = false;

  constructor(maxFrameBytes: number, onOversize: (payloadLength: number) => void) {
    this.#maxFrameBytes = maxFrameBytes;
    this.#onOversize = onOversize;
  }

  get tripped(): boolean {
    return this.#tripped;
  }

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !this.#tripped) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      this.#header.push(chunk[i] ?? 0);
      i += 1;
      const h = this.#header;
      if (h.length < 2) continue;
      const len7 = (h[1] ?? 0) & 0x7f;
      const masked = ((h[1] ?? 0) & 0x80) !== 0;
      const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      if (h.length < need) continue;
      let payload = len7;
      if (len7 === 126) payload = ((h[2] ?? 0) << 8) | (h[3] ?? 0);
      else if (len7 === 127) {
        payload = 0;
        for (let k = 2; k < 10; k += 1) payload = payload * 256 + (h[k] ?? 0);
      }
      const opcode = (h[0] ?? 0) & 0x0f;
      this.#header = [];
      // Data frames: continuation (0), text (1), binary (2). Control frames are ≤ 125 bytes by protocol.
      if (opcode <= 2 && payload > this.#maxFrameBytes) {
        this.#tripped = true;
        this.#onOversize(payload);
        return;
      }
      this.#skip = payload;
    }
  }
}
