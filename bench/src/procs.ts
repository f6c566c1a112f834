/**
 * Resource sampling from /proc (Linux): resident memory and CPU time of a process and, optionally, all of its
 * descendants (the runtime's execution environments, a service's forked helpers). No dependency, no agent.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { loadavg } from 'node:os';

/** Kernel clock ticks per second (USER_HZ); 100 on every mainstream Linux build. */
const CLOCK_TICKS = 100;

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** User + system CPU time, seconds. */
  cpuSeconds: number;
  rssBytes: number;
  /** When the process started, seconds after boot (`starttime`). */
  startSeconds: number;
}

/** Parse one /proc/<pid>/stat line (exported for tests). `comm` may hold spaces and parentheses. */
export function parseStat(line: string, pageSize = 4096): Omit<ProcStat, 'pid'> & { pid: number } {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  const pid = Number(line.slice(0, open).trim());
  const comm = line.slice(open + 1, close);
  // Fields after the comm, 0-based here = field number − 3 in proc(5).
  const rest = line
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const startTicks = Number(rest[19]);
  const rssPages = Number(rest[21]);
  return {
    pid,
    ppid,
    comm,
    cpuSeconds: (utime + stime) / CLOCK_TICKS,
    rssBytes: rssPages * pageSize,
    startSeconds: startTicks / CLOCK_TICKS,
  };
}

export function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * The glibc malloc settings a process started with (`MALLOC_*` and `GLIBC_TUNABLES` of /proc/<pid>/environ,
 * which is the environment at exec: what glibc read); null when it cannot be read (not Linux, gone, not ours).
 */
export function mallocEnvOf(pid: number): Record<string, string> | null {
  try {
    const entries = readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const)
      .filter(([k]) => k.startsWith('MALLOC_') || k === 'GLIBC_TUNABLES');
    return Object.fromEntries(entries);
  } catch {
    return null;
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** The pid and every descendant of it (children, grandchildren, …). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of allPids()) {
    const s = readStat(pid);
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(pid);
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    out.push(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return out;
}

/** The pid of the process listening on a TCP port of this host (IPv4 or IPv6), or null. */
export function pidListeningOn(port: number): number | null {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      const local = cols[1];
      if (!local || cols[3] !== '0A') continue; // 0A = LISTEN
      if (local.slice(local.lastIndexOf(':') + 1) === hexPort && cols[9]) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return null;
  for (const pid of allPids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(target);
        if (m && inodes.has(m[1] as string)) return pid;
      } catch {
        // fd closed while we looked
      }
    }
  }
  return null;
}

export interface SampleTarget {
  name: string;
  /** Resolved on every tick, so a restarted service (new pid) keeps being sampled. */
  pid: () => number | null;
  /** Include descendants (the runtime's execution environments). */
  tree: boolean;
}

export interface ResourceReport {
  name: string;
  pid: number | null;
  samples: number;
  peakRssMb: number | null;
  lastRssMb: number | null;
  /** Mean CPU over the sampled window, in % of one core (200 % = both cores of this machine). */
  avgCpuPct: number | null;
  peakCpuPct: number | null;
  /** CPU seconds used over the sampled window (user + system, the whole tree for the runtime). */
  cpuSeconds: number | null;
  /** RSS at each tick (MB), for soak flatness checks. */
  rssSeriesMb: number[];
}

interface TargetState {
  target: SampleTarget;
  pid: number | null;
  prevCpu: number | null;
  prevAt: number;
  firstCpu: number | null;
  firstAt: number;
  lastCpu: number | null;
  lastAt: number;
  peakRss: number;
  lastRss: number;
  peakCpuPct: number;
  samples: number;
  series: number[];
}

function sampleTree(pid: number, tree: boolean): { cpu: number; rss: number } | null {
  const pids = tree ? processTree(pid) : [pid];
  let cpu = 0;
  let rss = 0;
  let seen = false;
  for (const p of pids) {
    const s = readStat(p);
    if (!s) continue;
    seen = true;
    cpu += s.cpuSeconds;
    rss += s.rssBytes;
  }
  return seen ? { cpu, rss } : null;
}

/** Samples targets every `intervalMs` until stopped. CPU % is computed over each interval and the whole run. */
export class ResourceSampler {
  private readonly states: TargetState[];
  private timer: NodeJS.Timeout | undefined;
  /** 1-minute load average of the machine at each tick. */
  readonly loadAvg: number[] = [];

  constructor(
    targets: SampleTarget[],
    private readonly intervalMs = 1000,
  ) {
    this.states = targets.map((target) => ({
      target,
      pid: null,
      prevCpu: null,
      prevAt: 0,
      firstCpu: null,
      firstAt: 0,
      lastCpu: null,
      lastAt: 0,
      peakRss: 0,
      lastRss: 0,
      peakCpuPct: 0,
      samples: 0,
      series: [],
    }));
  }

  start(): this {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  tick(): void {
    const now = performance.now();
    this.loadAvg.push(Math.round((loadavg()[0] ?? 0) * 10) / 10);
    for (const st of this.states) {
      const pid = st.target.pid();
      if (pid !== st.pid) {
        // New or restarted process: CPU counters restart from zero.
        st.pid = pid;
        st.prevCpu = null;
        st.firstCpu = null;
      }
      if (pid === null) continue;
      const s = sampleTree(pid, st.target.tree);
      if (!s) continue;
      st.samples++;
      st.lastRss = s.rss;
      st.peakRss = Math.max(st.peakRss, s.rss);
      st.series.push(Math.round(s.rss / 1048576));
      if (st.prevCpu !== null && now > st.prevAt) {
        const pct = ((s.cpu - st.prevCpu) / ((now - st.prevAt) / 1000)) * 100;
        st.peakCpuPct = Math.max(st.peakCpuPct, pct);
      }
      if (st.firstCpu === null) {
        st.firstCpu = s.cpu;
        st.firstAt = now;
      }
      st.prevCpu = s.cpu;
      st.prevAt = now;
      st.lastCpu = s.cpu;
      st.lastAt = now;
    }
  }

  stop(): ResourceReport[] {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.tick();
    return this.report();
  }

  report(): ResourceReport[] {
    const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
    return this.states.map((st) => {
      const span = (st.lastAt - st.firstAt) / 1000;
      const avg =
        st.firstCpu !== null && st.lastCpu !== null && span > 0
          ? ((st.lastCpu - st.firstCpu) / span) * 100
          : null;
      return {
        name: st.target.name,
        pid: st.pid,
        samples: st.samples,
        peakRssMb: st.samples ? mb(st.peakRss) : null,
        lastRssMb: st.samples ? mb(st.lastRss) : null,
        avgCpuPct: avg === null ? null : Math.round(avg),
        peakCpuPct: st.samples > 1 ? Math.round(st.peakCpuPct) : null,
        cpuSeconds:
          st.firstCpu !== null && st.lastCpu !== null
            ? Math.round((st.lastCpu - st.firstCpu) * 100) / 100
            : null,
        rssSeriesMb: st.series,
      };
    });
  }
}
