import type { Reporter } from './types.ts';

interface Phase {
  what: string;
  t0: number;
}

const secs = (ms: number) => `${Math.round(ms / 1000)}s`;

/**
 * Visible progress while services start. On a TTY one line, redrawn every 250 ms, shows every running phase
 * with its elapsed seconds; elsewhere (CI, vitest) a line per phase start and a reminder every 10 s.
 */
export function consoleReporter(
  stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout,
  { quiet = false }: { quiet?: boolean } = {},
): Reporter {
  const phases = new Map<string, Phase>();
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  let drawn = false;
  const clear = () => {
    if (tty && drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };
  const draw = () => {
    if (!tty || phases.size === 0) return;
    const now = Date.now();
    const text = [...phases].map(([n, p]) => `${n}: ${p.what} ${secs(now - p.t0)}`).join('  |  ');
    const width = (stream as { columns?: number }).columns ?? 120;
    stream.write(`\r\x1b[2K${text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text}`);
    drawn = true;
  };
  let lastReminder = Date.now();
  const timer = setInterval(() => {
    if (tty) draw();
    else if (Date.now() - lastReminder >= 10_000 && phases.size > 0) {
      lastReminder = Date.now();
      const now = Date.now();
      for (const [n, p] of phases) stream.write(`  … ${n}: ${p.what} (${secs(now - p.t0)})\n`);
    }
  }, 250);
  timer.unref();
  const write = (text: string) => {
    if (quiet) return;
    clear();
    stream.write(`${text}\n`);
    draw();
  };
  return {
    begin(name, what) {
      phases.set(name, { what, t0: Date.now() });
      if (!tty) write(`  ${name}: ${what}…`);
      else draw();
    },
    end(name, line) {
      phases.delete(name);
      write(`${name}: ${line}`);
    },
    line(text) {
      write(text);
    },
    close() {
      clearInterval(timer);
      clear();
    },
  };
}

/** A reporter that collects lines (tests, quiet callers). */
export function memoryReporter(lines: string[] = []): Reporter & { lines: string[] } {
  return {
    lines,
    begin: (name, what) => lines.push(`${name}: ${what}…`),
    end: (name, line) => lines.push(`${name}: ${line}`),
    line: (text) => lines.push(text),
    close: () => {},
  };
}
