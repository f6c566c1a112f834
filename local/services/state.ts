/** What the services manager remembers about each service it started: `<stateDir>/run/<name>.json` and `.pid`. */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { cmdline, isAlive, readJson, writeJson } from './support.ts';
import { type Context, type Driver, runDir, type ServiceName, type ServiceState } from './types.ts';

const stateFile = (ctx: Context, name: ServiceName) => path.join(runDir(ctx), `${name}.json`);
const pidFile = (ctx: Context, name: ServiceName) => path.join(runDir(ctx), `${name}.pid`);

export async function readState(ctx: Context, name: ServiceName): Promise<ServiceState | undefined> {
  return readJson<ServiceState>(stateFile(ctx, name));
}

export async function writeState(ctx: Context, name: ServiceName, state: ServiceState): Promise<void> {
  await writeJson(stateFile(ctx, name), state);
  if (state.pid) await writeJson(pidFile(ctx, name), state.pid);
  else await rm(pidFile(ctx, name), { force: true });
}

export async function clearState(ctx: Context, name: ServiceName): Promise<void> {
  await rm(stateFile(ctx, name), { force: true });
  await rm(pidFile(ctx, name), { force: true });
}

/** The pid of the live native process this manager started for `driver`, if any. */
export function ownedPid(state: ServiceState | undefined, driver: Driver): number | undefined {
  if (state?.mode !== 'native' || !state.pid) return undefined;
  if (!isAlive(state.pid)) return undefined;
  const cmd = cmdline(state.pid);
  return cmd === '' || cmd.includes(driver.processMarker) ? state.pid : undefined;
}
