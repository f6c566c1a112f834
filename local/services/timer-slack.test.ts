/**
 * Cassandra's JVM starts with a larger timer slack (support.ts, JVM_TIMER_SLACK_NS): a real child process is
 * spawned the way the services are, and its slack is read back from /proc (`self`: the calling thread). Linux
 * only: the slack is a Linux notion, and elsewhere `withTimerSlack` just runs the spawn.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { JVM_TIMER_SLACK_NS, ownTimerSlackFile, spawnDetached, withTimerSlack } from './support.ts';

const linux = process.platform === 'linux';
const slackOf = (pid: number | 'self'): number =>
  Number(readFileSync(pid === 'self' ? ownTimerSlackFile() : `/proc/${pid}/timerslack_ns`, 'utf8'));

describe.runIf(linux)('timer slack of the services (Linux)', () => {
  it('a process spawned with timerSlackNs runs with it, and so do the threads it starts; ours is restored', async () => {
    const ours = slackOf('self');
    const log = path.join(tmpdir(), `timer-slack-${process.pid}.log`);
    // a child that starts a worker thread and prints the thread's slack, then waits to be read and killed
    const script = [
      "const { Worker } = require('node:worker_threads');",
      "const w = new Worker(\"const fs = require('node:fs'); const tid = fs.readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]; console.log('thread ' + fs.readFileSync('/proc/' + tid + '/timerslack_ns', 'utf8').trim());\", { eval: true });",
      'w.on("exit", () => setTimeout(() => {}, 30000));',
    ].join('\n');
    const pid = spawnDetached(process.execPath, ['-e', script], log, { timerSlackNs: JVM_TIMER_SLACK_NS });
    try {
      expect(slackOf(pid)).toBe(JVM_TIMER_SLACK_NS);
      let text = '';
      for (let i = 0; i < 100 && !/thread \d+/.test(text); i++) {
        await delay(50);
        text = readFileSync(log, 'utf8');
      }
      expect(text).toContain(`thread ${JVM_TIMER_SLACK_NS}`);
      expect(slackOf('self')).toBe(ours);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('without timerSlackNs a child keeps the spawner’s slack', async () => {
    const log = path.join(tmpdir(), `timer-slack-plain-${process.pid}.log`);
    const pid = spawnDetached(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], log);
    try {
      expect(slackOf(pid)).toBe(slackOf('self'));
      expect(slackOf(pid)).not.toBe(JVM_TIMER_SLACK_NS);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('withTimerSlack sets the slack for the function only and returns its value', () => {
    const ours = slackOf('self');
    const seen: number[] = [];
    const value = withTimerSlack(123_000, () => {
      seen.push(slackOf('self'));
      return 'ran';
    });
    expect(value).toBe('ran');
    expect(seen).toEqual([123_000]);
    expect(slackOf('self')).toBe(ours);
  });
});
