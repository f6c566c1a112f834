import { createServer } from 'node:net';
import { waitFor } from '@chat/kit/async';
import { describe, expect, it } from 'vitest';
import { parseStat, pidListeningOn, processTree, ResourceSampler, readStat } from './procs.ts';

describe('parseStat', () => {
  it('reads ppid, CPU time and RSS, even with spaces and parentheses in the command name', () => {
    // Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    //         cutime cstime priority nice threads itrealvalue starttime vsize rss …
    const line =
      '4242 (node (worker) 1) S 17 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 11 0 9999 1000000 2560 18446744073709551615';
    const s = parseStat(line, 4096);
    expect(s.pid).toBe(4242);
    expect(s.comm).toBe('node (worker) 1');
    expect(s.ppid).toBe(17);
    expect(s.cpuSeconds).toBe(3);
    expect(s.rssBytes).toBe(2560 * 4096);
  });
});

describe('live /proc', () => {
  it('reads this process and finds it in its own tree', () => {
    const s = readStat(process.pid);
    expect(s?.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(processTree(process.pid)).toContain(process.pid);
    expect(processTree(process.ppid)).toContain(process.pid);
  });

  it('finds the pid listening on a port', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      expect(pidListeningOn(port)).toBe(process.pid);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('samples RSS and CPU of a busy process', async () => {
    const sampler = new ResourceSampler([{ name: 'self', pid: () => process.pid, tree: false }], 50).start();
    const until = Date.now() + 300;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    // The busy loop held the event loop: the sampler's own interval must tick again once it is free.
    await waitFor(() => sampler.loadAvg.length >= 2, { timeoutMs: 5_000, what: 'a sampler tick' });
    const [report] = sampler.stop();
    expect(x).toBeGreaterThan(0);
    expect(report?.samples).toBeGreaterThanOrEqual(2);
    expect(report?.peakRssMb).toBeGreaterThan(10);
    expect(report?.avgCpuPct).toBeGreaterThan(10);
  });
});
