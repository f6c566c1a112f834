/**
 * Progress display: a redrawn bar on a TTY, a plain status line every few seconds otherwise (CI logs, pipes).
 */

export interface ProgressOptions {
  label: string;
  /** Total duration of the phase, seconds. */
  totalSeconds: number;
  /** Extra status text, e.g. `sent 1200 acked 1199 delivered 4796 err 0`. */
  status: () => string;
  stream?: NodeJS.WriteStream;
  /** Period of the plain lines when not on a TTY. */
  lineEveryMs?: number;
}

export function renderBar(fraction: number, width = 24): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${String(Math.floor(f * 100)).padStart(3)}%`;
}

export class Progress {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly started = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private lastLine = 0;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY) && process.env.CI !== 'true';
  }

  start(): this {
    this.timer = setInterval(() => this.draw(false), this.tty ? 200 : 1000);
    this.timer.unref();
    return this;
  }

  private line(): string {
    const elapsed = (performance.now() - this.started) / 1000;
    const frac = elapsed / this.opts.totalSeconds;
    return `${this.opts.label} ${renderBar(frac)} ${elapsed.toFixed(0)}/${this.opts.totalSeconds}s ${this.opts.status()}`;
  }

  private draw(final: boolean): void {
    if (this.tty) {
      const cols = this.stream.columns || 120;
      this.stream.write(
        `\r${this.line()
          .slice(0, cols - 1)
          .padEnd(cols - 1)}${final ? '\n' : ''}`,
      );
      return;
    }
    const now = performance.now();
    if (final || now - this.lastLine >= (this.opts.lineEveryMs ?? 5000)) {
      this.lastLine = now;
      this.stream.write(`${this.line()}\n`);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.draw(true);
  }
}

/** A one-line log with a timestamp relative to the start of the process. */
export function log(msg: string): void {
  process.stderr.write(`[${(performance.now() / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
}
