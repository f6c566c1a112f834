import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatError } from '../api/errors.ts';
import { loadContracts } from '../api/schemas.ts';
import { type ConnectionState, type Environment, RealtimeClient, type SocketLike } from './socket.ts';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  closed: number | null = null;
  onopen: SocketLike['onopen'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  onmessage: SocketLike['onmessage'] = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(data);
  }
  close(code = 1000) {
    this.closed = code;
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  receive(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

function fakeEnv() {
  let online = true;
  const on = { online: [] as Array<() => void>, offline: [] as Array<() => void> };
  const env: Environment = {
    isOnline: () => online,
    onOnline: (fn) => {
      on.online.push(fn);
      return () => undefined;
    },
    onOffline: (fn) => {
      on.offline.push(fn);
      return () => undefined;
    },
    onVisible: () => () => undefined,
  };
  return {
    env,
    goOffline() {
      online = false;
      for (const f of on.offline) f();
    },
    goOnline() {
      online = true;
      for (const f of on.online) f();
    },
  };
}

describe('RealtimeClient', () => {
  // the schemas are a lazy chunk in the browser; loaded once here so that a connect takes only microtasks
  beforeAll(async () => {
    await loadContracts();
  });

  let sockets: FakeSocket[];
  let tickets: number;
  let states: ConnectionState[];
  let client: RealtimeClient;
  let net: ReturnType<typeof fakeEnv>;

  const make = (ticket: () => Promise<string> = async () => `t${++tickets}`) => {
    net = fakeEnv();
    client = new RealtimeClient({
      wsApi: async () => 'ws://api',
      ticket,
      createSocket: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
      environment: net.env,
      backoff: { baseMs: 1_000, maxMs: 8_000, random: () => 0.5 },
      heartbeatMs: 60_000,
      pongTimeoutMs: 10_000,
    });
    client.onState((s) => states.push(s));
  };

  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    tickets = 0;
    states = [];
  });
  afterEach(() => {
    client.stop();
    vi.useRealTimers();
  });

  it('connects with a fresh one-time ticket each time', async () => {
    make();
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(sockets[0]?.url).toBe('ws://api/?ticket=t1');
    sockets[0]?.open();
    sockets[0]?.drop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sockets[1]?.url).toBe('ws://api/?ticket=t2');
  });

  it('backs off exponentially while the server stays away, and tells the UI when it retries', async () => {
    make();
    client.start();
    const opened: number[] = [];
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(0);
      const s = sockets[i] as FakeSocket;
      s.drop();
      const state = client.getState();
      expect(state.status).toBe('waiting');
      opened.push((state.retryAt ?? 0) - Date.now());
      await vi.advanceTimersByTimeAsync(state.retryAt ? state.retryAt - Date.now() : 0);
    }
    // equal jitter with random 0.5: three quarters of 1, 2, 4, 8 s
    expect(opened).toEqual([750, 1500, 3000, 6000]);
  });

  it('reports reconnects to its listeners, and resets the backoff once stable', async () => {
    make();
    const opens: boolean[] = [];
    client.onOpen((i) => opens.push(i.reconnect));
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    sockets[0]?.open();
    await vi.advanceTimersByTimeAsync(6_000);
    sockets[0]?.drop();
    expect(client.getState().attempt).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    sockets[1]?.open();
    expect(opens).toEqual([false, true]);
  });

  it('pings every heartbeat and drops a socket that answers nothing', async () => {
    make();
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    const s = sockets[0] as FakeSocket;
    s.open();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(s.sent).toEqual([JSON.stringify({ action: 'ping' })]);
    s.receive({ type: 'pong' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(s.sent).toHaveLength(2);
    // no answer this time
    await vi.advanceTimersByTimeAsync(10_000);
    expect(s.closed).toBe(4000);
    expect(client.getState().status).toBe('waiting');
  });

  it('goes offline with the browser and reconnects at once when it is back', async () => {
    make();
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    sockets[0]?.open();
    net.goOffline();
    expect(client.getState().status).toBe('offline');
    expect(sockets[0]?.closed).toBe(1000);
    expect(client.send({ action: 'ping' })).toBe(false);
    net.goOnline();
    await vi.advanceTimersByTimeAsync(0);
    expect(sockets).toHaveLength(2);
    sockets[1]?.open();
    expect(client.isOpen()).toBe(true);
  });

  it('passes on parsed events and ignores frames that break the contract', async () => {
    make();
    const events: unknown[] = [];
    client.onEvent((e) => events.push(e));
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    const s = sockets[0] as FakeSocket;
    s.open();
    s.receive({ type: 'pong' });
    s.receive({ type: 'message', message: { id: 'not-a-ulid' } });
    s.onmessage?.({ data: 'not json' });
    expect(events).toEqual([{ type: 'pong' }]);
  });

  it('on session_revoked asks for a ticket at once; its refusal signs the client out', async () => {
    let revoked = false;
    make(async () => {
      if (revoked) throw new ChatError('signed_out', 'Your session ended.');
      return `t${++tickets}`;
    });
    const events: unknown[] = [];
    client.onEvent((e) => events.push(e));
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    const s = sockets[0] as FakeSocket;
    s.open();
    revoked = true; // the API refuses tickets (and the refresh) of a revoked session
    s.receive({ type: 'error', code: 'session_revoked', message: 'This session was signed out.' });
    await vi.advanceTimersByTimeAsync(0);
    expect(client.getState().status).toBe('signed_out');
    expect(s.closed).toBe(1000);
    expect(events).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets).toHaveLength(1);
  });

  it('stops trying when the session is gone', async () => {
    make(async () => {
      throw new ChatError('signed_out', 'gone');
    });
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(client.getState().status).toBe('signed_out');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets).toHaveLength(0);
  });
});
