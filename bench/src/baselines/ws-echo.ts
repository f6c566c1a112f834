/**
 * Raw WebSocket echo through the emulator with a no-op handler (baselines/noop-handler.ts): the floor of any
 * WebSocket round trip the runtime can give, measured in its own runtime instance.
 */
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { spawnRuntime } from '../runtime.ts';
import { jsonSummary, Recorder } from '../stats.ts';
import type { BaselineResult } from './raw.ts';

const noop = path.join(path.dirname(fileURLToPath(import.meta.url)), 'noop-handler.ts');

export async function wsEcho(count = 1_000, budgetMs = 20_000): Promise<BaselineResult> {
  const what = 'WebSocket frame → emulator → no-op Lambda → route response, one in flight (warm)';
  let rt: Awaited<ReturnType<typeof spawnRuntime>> | undefined;
  try {
    rt = await spawnRuntime({
      handlerOverrides: { wsConnect: noop, wsDefault: noop, wsDisconnect: noop },
      only: ['wsConnect', 'wsDefault', 'wsDisconnect'],
    });
    const ws = new WebSocket(`${rt.endpoints.wsUrl}/?ticket=none`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_q, res) => reject(new Error(`handshake refused: ${res.statusCode}`)));
    });
    const rec = new Recorder(count);
    let waiting: (() => void) | undefined;
    ws.on('message', () => waiting?.());
    const deadline = performance.now() + budgetMs;
    // The route is $default (no action); 50 warm-up frames first. Stay under 20 frames/s? The no-op route has
    // no rate limit of its own: the limit lives in the chat handlers, not in the emulator.
    for (let i = 0; i < count + 50 && performance.now() < deadline; i++) {
      const got = new Promise<void>((resolve) => {
        waiting = resolve;
      });
      const t0 = performance.now();
      ws.send(JSON.stringify({ echo: i }));
      const ok = await Promise.race([got.then(() => true), delay(5_000, false)]);
      if (!ok) throw new Error(`no echo for frame ${i} within 5 s`);
      if (i >= 50) rec.add(performance.now() - t0);
    }
    ws.close();
    if (rec.count === 0) throw new Error('no sample within the time budget');
    return { name: 'wsEcho', what, ok: true, latencyMs: jsonSummary(rec.summary(), 3) };
  } catch (err) {
    return { name: 'wsEcho', what, ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    await rt?.stop();
  }
}
