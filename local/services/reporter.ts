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
  // On a TTY: a block of one line per running phase, redrawn in place (cursor up + clear to end of screen).
  let drawnLines = 0;
  const clear = () => {
    if (tty && drawnLines > 0) stream.write(`\x1b[${drawnLines}F\x1b[J`);
    drawnLines = 0;
  };
  const draw = () => {
    if (!tty) return;
    clear();
    const now = Date.now();
    const width = (stream as { columns?: number }).columns ?? 100;
    for (const [n, p] of phases) {
      const text = `  ${n} ${secs(now - p.t0)}: ${p.what}`;
      stream.write(`${text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text}\n`);
      drawnLines++;
    }
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
      // A service moving to its next phase keeps its clock: the time shown is the service's total so far.
      phases.set(name, { what, t0: phases.get(name)?.t0 ?? Date.now() });
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
