/**
 * The backing services, through the services manager (local/services): bring them up before a run, and
 * for chaos, kill or restart one of them the way the manager does it.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  ensureServices,
  memoryReporter,
  type ServiceName,
  servicesDown,
  servicesStatus,
  servicesUp,
} from '@chat/local/services';
import { log } from './progress.ts';

export async function ensureBackingServices(): Promise<void> {
  const report = memoryReporter();
  const t0 = performance.now();
  try {
    const up = await ensureServices({ report });
    log(
      `services: ${up.services.map((s) => `${s.name} ${s.mode}${s.pid ? ` pid ${s.pid}` : ''}`).join(', ')} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  } catch (err) {
    process.stderr.write(`${report.lines.join('\n')}\n`);
    throw err;
  }
}

export async function servicePid(name: ServiceName): Promise<number | undefined> {
  const [s] = await servicesStatus({ services: [name], report: memoryReporter() });
  return s?.pid;
}

const dead = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

/** kill -9 a native service this manager started; resolves once the process is gone. */
export async function killService(name: ServiceName): Promise<number> {
  const pid = await servicePid(name);
  if (!pid) throw new Error(`${name} is not a native process of the services manager: cannot kill it`);
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && !dead(pid); i++) await delay(100);
  return pid;
}

/** Start a service again through the manager (after a kill) and wait until it answers. */
export async function startService(name: ServiceName): Promise<void> {
  const report = memoryReporter();
  try {
    await servicesUp({ services: [name], report, applySchema: false });
  } catch (err) {
    process.stderr.write(`${report.lines.join('\n')}\n`);
    throw err;
  }
}

/** Graceful stop (the manager's own `down`) then start. */
export async function restartService(name: ServiceName): Promise<void> {
  const report = memoryReporter();
  const [down] = await servicesDown({ services: [name], report });
  if (down?.action !== 'stopped' && down?.action !== 'killed') {
    throw new Error(
      `${name}: ${down?.action ?? 'unknown'}: only services the manager started can be restarted`,
    );
  }
  log(`chaos: ${name} ${down.action}; starting it again`);
  await startService(name);
}
