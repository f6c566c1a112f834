/**
 * Child process that hosts the local runtime for the bench (started by runtime.ts with the tsx loader).
 * Talks over IPC: `ready` once listening, then answers `metrics`, `resetMetrics`, `kill` and `stop`.
 */
import type { FunctionStats } from './runtime.ts';

export interface HostStart {
  handlerOverrides: Record<string, string>;
}

export type HostRequest =
  | { id: number; type: 'metrics' }
  | { id: number; type: 'resetMetrics' }
  | { id: number; type: 'kill'; fn: string; target: 'busy' | 'idle' | 'all' }
  | { id: number; type: 'stop' };

export type HostReply =
  | { type: 'ready'; wsUrl: string; httpUrl: string; id?: undefined }
  | { type: 'metrics'; id: number; metrics: Record<string, FunctionStats> }
  | { type: 'killed'; id: number; count: number }
  | { type: 'ok'; id: number }
  | { type: 'error'; id?: number; message: string };

interface LocalRuntime {
  wsUrl: string;
  httpUrl: string;
  metrics(): unknown;
  resetMetrics(): void;
  killEnvironment(fn: string, target: string): Promise<number>;
  stop(): Promise<void>;
}

const reply = (m: HostReply) => process.send?.(m);

async function main(): Promise<void> {
  const start = JSON.parse(process.argv[2] ?? '{}') as HostStart;
  // Resolved at run time: the runtime module is being built in parallel (typed import once it lands).
  const runtimeModule: string = '@chat/infra/local/runtime/index.ts';
  const { startLocalRuntime } = (await import(runtimeModule)) as {
    startLocalRuntime: (o: object) => Promise<LocalRuntime>;
  };
  const rt = await startLocalRuntime({
    wsPort: 0,
    httpPort: 0,
    host: '127.0.0.1',
    ...(Object.keys(start.handlerOverrides).length ? { handlerOverrides: start.handlerOverrides } : {}),
    quiet: true,
  });
  reply({ type: 'ready', wsUrl: rt.wsUrl, httpUrl: rt.httpUrl });
  process.on('message', async (req: HostRequest) => {
    try {
      switch (req.type) {
        case 'metrics':
          reply({ type: 'metrics', id: req.id, metrics: rt.metrics() as Record<string, FunctionStats> });
          break;
        case 'resetMetrics':
          rt.resetMetrics();
          reply({ type: 'ok', id: req.id });
          break;
        case 'kill':
          reply({ type: 'killed', id: req.id, count: await rt.killEnvironment(req.fn, req.target) });
          break;
        case 'stop':
          await rt.stop();
          reply({ type: 'ok', id: req.id });
          process.exit(0);
      }
    } catch (err) {
      reply({ type: 'error', id: req.id, message: err instanceof Error ? err.message : String(err) });
    }
  });
  process.on('disconnect', () => {
    void rt.stop().finally(() => process.exit(0));
  });
}

main().catch((err) => {
  reply({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
