/**
 * API Gateway limits each WebSocket frame to 32 KB (and each message to 128 KB, which `ws` enforces with
 * maxPayload). `ws` only checks message totals, so this guard reads the client's raw frame headers as they
 * arrive (it observes the socket's data, it does not consume it) and reports a data frame over the limit as
 * soon as its header is seen, before its payload is delivered.
 */
export class FrameGuard {
  readonly #maxFrameBytes: number;
  readonly #onOversize: (payloadLength: number) => void;
  /** Header bytes seen of the current frame (the header is at most 14 bytes), and what they say so far. */
  #seen = 0;
  #need = 2;
  #opcode = 0;
  #len7 = 0;
  #payload = 0;
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
      const b = chunk[i] ?? 0;
      i += 1;
      const at = this.#seen;
      this.#seen += 1;
      if (at === 0) {
        this.#opcode = b & 0x0f;
        continue;
      }
      if (at === 1) {
        this.#len7 = b & 0x7f;
        this.#payload = this.#len7 < 126 ? this.#len7 : 0;
        this.#need = 2 + (this.#len7 === 126 ? 2 : this.#len7 === 127 ? 8 : 0) + ((b & 0x80) !== 0 ? 4 : 0);
      } else if (at < 2 + (this.#len7 === 126 ? 2 : this.#len7 === 127 ? 8 : 0)) {
        // Extended payload length, big-endian (16 or 64 bits); the masking key follows and is skipped.
        this.#payload = this.#payload * 256 + b;
      }
      if (this.#seen < this.#need) continue;
      const payload = this.#payload;
      this.#seen = 0;
      this.#need = 2;
      // Data frames: continuation (0), text (1), binary (2). Control frames are ≤ 125 bytes by protocol.
      if (this.#opcode <= 2 && payload > this.#maxFrameBytes) {
        this.#tripped = true;
        this.#onOversize(payload);
        return;
      }
      this.#skip = payload;
    }
  }
}
