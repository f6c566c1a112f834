/**
 * Small process, file and network helpers for the services manager (no dependencies beyond Node).
 */

import { execFile, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { repoRoot } from '@chat/kit/paths';

export { repoRoot };

/** Where downloaded artifacts are cached across clones: CHAT_LOCAL_CACHE, else $XDG_CACHE_HOME/chat-local. */
export function defaultCacheDir(): string {
  if (process.env.CHAT_LOCAL_CACHE) return path.resolve(process.env.CHAT_LOCAL_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'chat-local');
}

/** The project's ignored state folder: CHAT_LOCAL_DIR, else <repo>/.local. */
export function defaultStateDir(): string {
  return process.env.CHAT_LOCAL_DIR
    ? path.resolve(process.env.CHAT_LOCAL_DIR)
    : path.join(repoRoot, '.local');
}

export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, never throws on a non-zero exit. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      {
        timeout: opts.timeoutMs ?? 0,
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        maxBuffer: 32 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({
          code,
          stdout: String(stdout),
          stderr: String(stderr || (err && !stderr ? err.message : '')),
        });
      },
    );
  });
}

/** Runs a command with its output appended to a log file. Resolves with the exit code. */
export function runLogged(
  cmd: string,
  args: readonly string[],
  logFile: string,
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<number> {
  ensureDir(path.dirname(logFile));
  const fd = openSync(logFile, 'a');
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    child.on('error', () => resolve(127));
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

/** Finds an executable on PATH. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {}
  }
  return undefined;
}

/**
 * The timer slack Cassandra's JVM starts with (Linux; 200 µs instead of the kernel's 50 µs). Cassandra's shared
 * executor pool waits for work in short timed parks (`LockSupport.parkNanos`, 10 µs and up) for about 10 ms after
 * every task, so at a chat's rates (a request every few ms) its idle workers never stop waking up: at 300 writes/s
 * that spin was about half of Cassandra's CPU (1.2–1.5 ms per single-row write against 0.6 with this slack, the
 * round trip 0.05 ms slower at p50: docs/benchmarks.md, issue 13's eleventh pass). A larger slack lets the kernel
 * coalesce those wake-ups; timeouts a client could observe move by a fraction of a millisecond. Kafka's JVM
 * blocks with millisecond timeouts instead, and gained nothing from it.
 */
export const JVM_TIMER_SLACK_NS = 200_000;

/**
 * Runs `fn` (which spawns) with this thread's timer slack set to `ns`, then restores it: a child inherits the
 * slack of the thread that forks it, and every thread it creates inherits it in turn. Linux only; where the
 * file is missing or refuses the write, `fn` runs unchanged.
 */
export function withTimerSlack<T>(ns: number, fn: () => T): T {
  let file = '';
  let before: string | undefined;
  try {
    file = ownTimerSlackFile();
    before = readFileSync(file, 'utf8').trim();
    writeFileSync(file, String(ns));
  } catch {
    before = undefined;
  }
  try {
    return fn();
  } finally {
    if (before !== undefined) {
      try {
        writeFileSync(file, before);
      } catch {}
    }
  }
}

/**
 * The timer slack file of the calling thread: /proc/<tid>/timerslack_ns (the kernel lets a thread set its own
 * slack without privileges; /proc/self is the main thread's, which a worker thread could set only with
 * CAP_SYS_NICE, and its children would not inherit it).
 */
export function ownTimerSlackFile(): string {
  const tid = readlinkSync('/proc/thread-self').split('/').pop();
  return `/proc/${tid}/timerslack_ns`;
}

/** Starts a long-running process in its own session (it outlives this Node process), output to `logFile`. */
export function spawnDetached(
  cmd: string,
  args: readonly string[],
  logFile: string,
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timerSlackNs?: number } = {},
): number {
  ensureDir(path.dirname(logFile));
  const fd = openSync(logFile, 'a');
  const start = () =>
    spawn(cmd, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
  const child = opts.timerSlackNs === undefined ? start() : withTimerSlack(opts.timerSlackNs, start);
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  child.unref();
  return child.pid;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by its parent) still answers signal 0.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

/** The process's command line (Linux), or '' if unknown. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL. */
export async function stopProcess(pid: number, graceMs = 20_000): Promise<'stopped' | 'killed' | 'gone'> {
  if (!isAlive(pid)) return 'gone';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'gone';
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'stopped';
    await delay(200);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
  for (let i = 0; i < 50 && isAlive(pid); i++) await delay(100);
  return 'killed';
}

/** True when something accepts TCP connections at host:port. */
export function tcpOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The last `lines` lines of a text file ('' if missing). */
export function tailFile(file: string, lines = 40): string {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    const len = Math.min(size, 256 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    closeSync(fd);
    return buf
      .toString('utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  }
}

export async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  ensureDir(path.dirname(file));
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * A cross-process lock (a file created with O_EXCL holding the owner's pid). A lock whose owner died is taken
 * over. `onWait` is called once if we have to wait.
 */
export async function withLock<T>(
  lockFile: string,
  fn: () => Promise<T>,
  opts: { timeoutMs?: number; onWait?: (ownerPid: number) => void } = {},
): Promise<T> {
  ensureDir(path.dirname(lockFile));
  const deadline = Date.now() + (opts.timeoutMs ?? 15 * 60_000);
  let told = false;
  for (;;) {
    try {
      const fh = await open(lockFile, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (!owner || !isAlive(owner)) {
        // Stale (owner died) or being written right now: take over only if it is still stale a moment later.
        await delay(100);
        const again = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
        if (again === owner && (!owner || !isAlive(owner))) await rm(lockFile, { force: true });
        continue;
      }
      if (owner === process.pid) break; // re-entrant within one process
      if (!told) {
        opts.onWait?.(owner);
        told = true;
      }
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for lock ${lockFile} held by pid ${owner}`);
      await delay(300);
    }
  }
  try {
    return await fn();
  } finally {
    const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
    if (owner === process.pid) await rm(lockFile, { force: true });
  }
}

/** Java home of a JDK/JRE 17 (Kafka 4 needs ≥ 17; Cassandra 5.0 supports 11 and 17 only). */
export function findJava17(): string | undefined {
  const candidates: string[] = [];
  for (const v of [process.env.CHAT_JAVA_HOME, process.env.JAVA_HOME]) if (v) candidates.push(v);
  try {
    for (const d of readdirSync('/usr/lib/jvm')) candidates.push(path.join('/usr/lib/jvm', d));
  } catch {}
  const javaOnPath = which('java');
  if (javaOnPath) {
    try {
      candidates.push(path.resolve(path.dirname(realpathSync(javaOnPath)), '..'));
    } catch {}
  }
  for (const home of candidates) {
    const bin = path.join(home, 'bin', 'java');
    if (!existsSync(bin)) continue;
    let release = '';
    try {
      release = readFileSync(path.join(home, 'release'), 'utf8');
    } catch {}
    const m = /JAVA_VERSION="(\d+)/.exec(release);
    if (m?.[1] === '17') return home;
  }
  return undefined;
}

export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

let aptUpdated = false;

/**
 * Installs Debian packages when we are root and apt-get exists (runs `apt-get update` once if the first try
 * fails). Returns false when we cannot install.
 */
export async function aptInstall(packages: readonly string[], logFile: string): Promise<boolean> {
  if (!isRoot() || !which('apt-get')) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for another apt/dpkg run (a developer installing something else) instead of failing at once.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  const install = () =>
    runLogged('apt-get', [...lock, 'install', '-y', '--no-install-recommends', ...packages], logFile, {
      env,
    });
  if (!aptUpdated && (await install()) === 0) return true;
  if (!aptUpdated) {
    aptUpdated = true;
    if ((await runLogged('apt-get', [...lock, 'update'], logFile, { env })) !== 0) return false;
  }
  return (await install()) === 0;
}
