/**
 * Lambda execution environments: reuse (module state), one invocation at a time per environment, scale-out up
 * to the concurrency limit, timeouts and kills replace the sandbox, REPORT lines, context and environment.
 */

import { waitFor } from '@chat/kit/async';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InvokeEndEvent, type InvokeStartEvent, type LocalRuntime, startLocalRuntime } from './index.ts';
import { fixture } from './test-helpers.ts';

interface CounterResult {
  count: number;
  sandbox: string;
  functionName: string;
  awsRequestId: string;
  memoryLimitInMB: string;
  invokedFunctionArn: string;
  remainingMs: number;
  env: Record<string, string | undefined>;
}

const base = {
  wsPort: 0,
  httpPort: 0,
  kafka: false,
  schedules: false,
  functions: [],
  routeTable: { functionDefs: {}, wsRoutes: [], httpRoutes: [], kafkaConsumers: [], schedules: [] },
} as const;

const ok = (r: Awaited<ReturnType<LocalRuntime['invoke']>>): CounterResult => {
  if (!r.ok) throw new Error(`invocation failed: ${r.error.errorType}: ${r.error.errorMessage}`);
  return r.result as CounterResult;
};

describe('When a function is invoked in worker-thread environments (ESM bundles)', () => {
  let rt: LocalRuntime;
  const logs: string[] = [];
  const starts: Array<InvokeStartEvent & { at: number }> = [];
  const ends: Array<InvokeEndEvent & { at: number }> = [];
  beforeAll(async () => {
    rt = await startLocalRuntime({
      ...base,
      log: (source, line) => logs.push(`${source} ${line}`),
      env: { CUSTOM: 'from-options' },
      functionOverrides: {
        counter: { entry: fixture('counter.ts'), timeoutSeconds: 2, memoryMb: 256, maxConcurrency: 2 },
        custom: { entry: fixture('counter.ts'), env: { CUSTOM: 'per-function' } },
        small: { entry: fixture('counter.ts'), memoryMb: 64, timeoutSeconds: 20 },
        names: fixture('error-names.ts'),
        stacks: fixture('stacks.ts'),
        callback: fixture('callback.ts'),
        broken: fixture('init-throws.ts'),
      },
    });
    rt.events.on('invokeStart', (e: InvokeStartEvent) => starts.push({ ...e, at: performance.now() }));
    rt.events.on('invokeEnd', (e: InvokeEndEvent) => ends.push({ ...e, at: performance.now() }));
  });
  afterAll(() => rt?.stop());

  it('bundles keep class names, so driver errors stay recognizable as outages', async () => {
    const r = await rt.invoke('names', {});
    if (!r.ok) throw new Error(r.error.errorMessage);
    expect(r.result).toEqual([
      { name: 'NoHostAvailableError', outage: true },
      { name: 'OperationTimedOutError', outage: true },
      { name: 'BusyConnectionError', outage: true },
    ]);
  });

  it('maps stack frames into our sources only; a library frame keeps its bundle position', async () => {
    const r = await rt.invoke('stacks', {});
    if (!r.ok) throw new Error(r.error.errorMessage);
    const { ours, library } = r.result as { ours: string; library: string };
    const frame = (stack: string) => stack.split('\n').find((l) => l.trim().startsWith('at ')) ?? '';
    expect(frame(ours)).toMatch(/test-fixtures[\\/]stacks\.ts:8:\d+\)?$/);
    // The first-party map (@chat/kit/source-maps): no mapping into node_modules, the bundle's own position.
    expect(library).toContain('Invalid string representation of Uuid');
    expect(frame(library)).not.toContain('node_modules');
    expect(frame(library)).toMatch(/index\.mjs:\d+:\d+\)?$/);
  });

  it('counts the CPU time its environments spend inside invocations (per function metrics)', async () => {
    await rt.invoke('small', {}); // cold start outside the measurement
    const before = rt.metrics().small?.cpuMs ?? 0;
    ok(await rt.invoke('small', { sleepMs: 300 }));
    const afterSleep = rt.metrics().small?.cpuMs ?? 0;
    ok(await rt.invoke('small', { busyMs: 300 }));
    const afterBusy = rt.metrics().small?.cpuMs ?? 0;
    // /proc ticks are 10 ms: a 300 ms spin is charged many ticks even on a contended machine, a sleep almost none.
    expect(afterBusy - afterSleep).toBeGreaterThanOrEqual(30);
    expect(afterBusy - afterSleep).toBeGreaterThan(afterSleep - before);
  });

  it('reuses the environment: module state persists, only the first call is a cold start', async () => {
    await rt.killEnvironment('counter', 'all');
    const first = await rt.invoke('counter', {});
    const second = await rt.invoke('counter', {});
    expect(first.coldStart).toBe(true);
    expect(second.coldStart).toBe(false);
    expect(ok(second).count).toBe(ok(first).count + 1);
    expect(ok(second).sandbox).toBe(ok(first).sandbox);
    const report = (id: string) => logs.find((l) => l.startsWith(`counter REPORT RequestId: ${id}\t`));
    expect(report(first.requestId)).toMatch(
      /Duration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms$/,
    );
    expect(report(second.requestId)).not.toContain('Init Duration');
    expect(logs).toContain(`counter START RequestId: ${first.requestId} Version: $LATEST`);
  });

  it('gives the handler a Lambda context', async () => {
    const r = ok(await rt.invoke('counter', {}));
    expect(r.functionName).toBe('counter');
    expect(r.memoryLimitInMB).toBe('256');
    expect(r.invokedFunctionArn).toBe('arn:aws:lambda:us-east-1:123456789012:function:counter');
    expect(r.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.remainingMs).toBeGreaterThan(0);
    expect(r.remainingMs).toBeLessThanOrEqual(2_000);
  });

  it('sets the environment handlers read on AWS, dummy credentials and the emulator endpoint', async () => {
    const r = ok(await rt.invoke('counter', {}));
    expect(r.env).toMatchObject({
      AWS_REGION: 'us-east-1',
      AWS_LAMBDA_FUNCTION_NAME: 'counter',
      AWS_ACCESS_KEY_ID: 'AKIALOCALRUNTIME0000',
      WS_MANAGEMENT_ENDPOINT: rt.managementEndpoint,
      CUSTOM: 'from-options',
    });
    expect(ok(await rt.invoke('custom', {})).env.CUSTOM).toBe('per-function');
  });

  it('runs one invocation at a time per environment and scales out to the concurrency limit', async () => {
    starts.length = 0;
    ends.length = 0;
    const t0 = performance.now();
    const results = await Promise.all([1, 2, 3, 4].map(() => rt.invoke('counter', { sleepMs: 300 })));
    const elapsed = performance.now() - t0;
    expect(results.every((r) => r.ok)).toBe(true);
    const envIds = new Set(starts.filter((s) => s.fn === 'counter').map((s) => s.environmentId));
    expect(envIds.size).toBeLessThanOrEqual(2);
    // Four 300 ms calls on at most two environments take at least two rounds.
    expect(elapsed).toBeGreaterThanOrEqual(600);
    // Per environment, each invocation starts only after the previous one ended.
    for (const envId of envIds) {
      const runs = starts
        .filter((st) => st.environmentId === envId)
        .map((st) => ({
          start: st.at,
          end: ends.find((e) => e.requestId === st.requestId)?.at ?? Number.NaN,
        }))
        .sort((a, b) => a.start - b.start);
      for (let i = 1; i < runs.length; i += 1) {
        expect(runs[i]?.start).toBeGreaterThanOrEqual(runs[i - 1]?.end ?? Number.POSITIVE_INFINITY);
      }
    }
    expect(rt.metrics().counter?.environments.total).toBeLessThanOrEqual(2);
  });

  it('enforces the timeout: Sandbox.Timedout, REPORT Status: timeout, the environment is replaced', async () => {
    const before = ok(await rt.invoke('counter', {}));
    const r = await rt.invoke('counter', { spin: true });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.timedOut).toBe(true);
    expect(r.error.errorType).toBe('Sandbox.Timedout');
    expect(r.error.errorMessage).toMatch(/Task timed out after 2\.00 seconds$/);
    expect(logs.find((l) => l.includes(`REPORT RequestId: ${r.requestId}`))).toMatch(/Status: timeout$/);
    // The timed-out sandbox is gone; drop the other warm one too, so the next call must start a new one.
    await rt.killEnvironment('counter', 'idle');
    const after = await rt.invoke('counter', {});
    expect(after.coldStart).toBe(true);
    expect(ok(after).count).toBe(1);
    expect(ok(after).sandbox).not.toBe(before.sandbox);
  });

  it('can kill an environment mid-invocation: Runtime.ExitError, then a cold start', async () => {
    const pending = rt.invoke('counter', { sleepMs: 5_000 });
    await waitFor(() => rt.environments('counter').some((e) => e.state === 'busy') || undefined, {
      timeoutMs: 5_000,
      what: 'busy',
    });
    expect(await rt.killEnvironment('counter', 'busy')).toBe(1);
    const r = await pending;
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.errorType).toBe('Runtime.ExitError');
      expect(r.error.errorMessage).toContain('Runtime exited with error: signal: killed');
    }
  });

  it('ends a sandbox that exceeds its memory with Runtime.OutOfMemory', async () => {
    const r = await rt.invoke('small', { hog: true });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.errorType).toBe('Runtime.OutOfMemory');
    expect(logs.find((l) => l.includes(`REPORT RequestId: ${r.requestId}`))).toMatch(
      /Status: error\tError Type: Runtime.OutOfMemory$/,
    );
    expect((await rt.invoke('small', {})).coldStart).toBe(true);
  });

  it('serializes errors as the Node.js runtime does', async () => {
    const r = await rt.invoke('counter', { throw: 'bad input' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ errorType: 'TypeError', errorMessage: 'bad input' });
  });

  it('fails a result over 6 MB with Function.ResponseSizeTooLarge', async () => {
    const r = await rt.invoke('counter', { big: 7 * 1024 * 1024 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.errorType).toBe('Function.ResponseSizeTooLarge');
  });

  it('refuses a callback-style handler at init, as the Node.js 24 runtime does', async () => {
    const r = await rt.invoke('callback', {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.errorType).toBe('Runtime.CallbackHandlerDeprecated');
  });

  it('reports an init error and tries again on the next invocation', async () => {
    const r = await rt.invoke('broken', {});
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.error).toMatchObject({ errorType: 'Error', errorMessage: 'missing configuration at init' });
    expect(logs.some((l) => l.startsWith('broken INIT_REPORT') && l.includes('Status: error'))).toBe(true);
  });

  it('deploys new code on reload(): the next invocation is a cold start with fresh module state', async () => {
    const warm = ok(await rt.invoke('custom', {}));
    await rt.reload();
    const fresh = await rt.invoke('custom', {});
    expect(fresh.coldStart).toBe(true);
    expect(ok(fresh).count).toBe(1);
    expect(ok(fresh).sandbox).not.toBe(warm.sandbox);
  });

  it('counts cold starts, init and invoke durations per function', () => {
    const m = rt.metrics().counter;
    expect(m?.coldStarts).toBeGreaterThanOrEqual(2);
    expect(m?.init.count).toBe(m?.coldStarts);
    expect(m?.duration.count).toBe(m?.invocations);
    expect(m?.timeouts).toBe(1);
    expect(m?.errors).toBeGreaterThanOrEqual(3);
  });
});

describe('When an environment has been idle for idleEnvironmentTtlMs (npm start: LAMBDA_IDLE_TTL_SEC)', () => {
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await startLocalRuntime({
      ...base,
      idleEnvironmentTtlMs: 300,
      functionOverrides: { counter: { entry: fixture('counter.ts'), maxConcurrency: 2 } },
    });
  });
  afterAll(() => rt?.stop());

  it('is reclaimed, and the next invocation is a cold start in a new sandbox', async () => {
    // Two at once: two environments.
    const [a, b] = await Promise.all([
      rt.invoke('counter', { sleepMs: 200 }),
      rt.invoke('counter', { sleepMs: 200 }),
    ]);
    expect(ok(a).sandbox).not.toBe(ok(b).sandbox);
    expect(rt.environments('counter')).toHaveLength(2);
    await waitFor(() => rt.environments('counter').length === 0 || undefined, {
      timeoutMs: 10_000,
      what: 'idle environments reclaimed',
    });
    const next = await rt.invoke('counter', {});
    expect(next.coldStart).toBe(true);
    expect(ok(next).count).toBe(1);
    expect([ok(a).sandbox, ok(b).sandbox]).not.toContain(ok(next).sandbox);
  });
});

describe('When functions are bundled as CommonJS and run in child processes (Node.js 20 runtime)', () => {
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await startLocalRuntime({
      ...base,
      log: 'silent',
      esm: false,
      isolation: 'process',
      lambdaRuntime: 'nodejs20.x',
      functionOverrides: { counter: fixture('counter.ts'), callback: fixture('callback.ts') },
    });
  });
  afterAll(() => rt?.stop());

  it('runs and reuses the process environment', async () => {
    const a = ok(await rt.invoke('counter', {}));
    const b = ok(await rt.invoke('counter', {}));
    expect(b.count).toBe(a.count + 1);
    expect(a.sandbox.split(':')[0]).not.toBe(String(process.pid));
  });

  it('still supports callback handlers on older runtimes', async () => {
    const r = await rt.invoke('callback', {});
    expect(r.ok && r.result).toBe('called back');
  });

  it('kills a process mid-invocation', async () => {
    const pending = rt.invoke('counter', { sleepMs: 5_000 });
    await waitFor(() => rt.environments('counter').some((e) => e.state === 'busy') || undefined, {
      timeoutMs: 10_000,
      what: 'busy',
    });
    await rt.killEnvironment('counter');
    const r = await pending;
    expect(!r.ok && r.error.errorType).toBe('Runtime.ExitError');
  });
});
