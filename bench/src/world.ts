/**
 * The population of a run: users signed up over HTTP, a DM ring (or pairs) and groups, each group's last member an
 * observer that never sends. Plus `retrying`, the bounded retry every HTTP call of the load generator uses.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Conversation } from '@chat/functions/contracts';
import { mapLimit } from '@chat/kit/async';
import { type Api, HttpError } from './client.ts';
import { log } from './progress.ts';

export const BENCH_PASSWORD = 'bench-password-0';

export interface WorldOptions {
  /** Short unique id (lower-case letters and digits) in every username and client message id of the run. */
  runId: string;
  users: number;
  /** Members per group (creator included); under 3: no groups. */
  groupSize: number;
  /** DMs: `ring` (default: every user with the next one) or `pairs` (users 2k and 2k+1, one DM each). */
  dms?: 'ring' | 'pairs';
  /** Run `fn` for at most this many users/conversations at once during setup. */
  setupConcurrency?: number;
}

export interface BenchUser {
  idx: number;
  id: string;
  username: string;
  accessToken: string;
  refreshToken: string;
  tokenAt: number;
  conversations: number[];
  /**
   * Never sends (the last member of each group): its read pointer never moves, so its unread count must be
   * exactly the number of messages in the conversation.
   */
  observer: boolean;
}

export interface BenchConversation {
  idx: number;
  id: string;
  type: 'dm' | 'group';
  members: number[];
}

/** Retry an HTTP call on 429/5xx and network errors, a bounded number of times. */
export async function retrying<T>(fn: () => Promise<T>, attempts = 6): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (err) {
      last = err;
      if (err instanceof HttpError && err.status < 500 && err.status !== 429) throw err;
      await delay(200 * 2 ** i);
    }
  }
  throw last;
}

/** Users and their conversations, created through the HTTP API. */
export class World {
  readonly users: BenchUser[] = [];
  readonly conversations: BenchConversation[] = [];
  /** Wall clock before the first conversation existed: history since then is the conversations' whole history. */
  readonly createdAtMs = Date.now();

  constructor(
    readonly api: Api,
    readonly opts: WorldOptions,
  ) {}

  static async create(api: Api, opts: WorldOptions): Promise<World> {
    const w = new World(api, opts);
    await w.setup();
    return w;
  }

  private async setup(): Promise<void> {
    const { runId, users, groupSize } = this.opts;
    const conc = this.opts.setupConcurrency ?? 8;
    const t0 = performance.now();
    const idx = Array.from({ length: users }, (_, i) => i);
    await mapLimit(idx, conc, async (i) => {
      const username = `b${runId}_${i}`;
      const auth = await retrying(() => this.api.signup(username, BENCH_PASSWORD));
      this.users[i] = {
        idx: i,
        id: auth.user.id,
        username,
        accessToken: auth.accessToken,
        refreshToken: auth.refreshToken,
        tokenAt: Date.now(),
        conversations: [],
        observer: false,
      };
    });
    log(`setup: ${users} users signed up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const specs: { creator: number; members: number[]; type: 'dm' | 'group' }[] = [];
    if (this.opts.dms === 'pairs') {
      for (let i = 0; i + 1 < users; i += 2) specs.push({ creator: i, members: [i, i + 1], type: 'dm' });
    } else if (users >= 2) {
      for (let i = 0; i < users; i++) {
        const peer = (i + 1) % users;
        if (users === 2 && i === 1) break; // one DM for a pair
        specs.push({ creator: i, members: [i, peer], type: 'dm' });
      }
    }
    if (groupSize >= 3) {
      for (let start = 0; start + groupSize <= users; start += groupSize) {
        specs.push({
          creator: start,
          members: Array.from({ length: groupSize }, (_, k) => start + k),
          type: 'group',
        });
      }
    }
    const t1 = performance.now();
    const create = async (spec: (typeof specs)[number], i: number) => {
      const creator = this.users[spec.creator] as BenchUser;
      const others = spec.members
        .filter((m) => m !== spec.creator)
        .map((m) => (this.users[m] as BenchUser).id);
      const conv: Conversation = await retrying(() =>
        this.api.createConversation(
          creator.accessToken,
          spec.type === 'dm'
            ? { type: 'dm', peerId: others[0] as string }
            : { type: 'group', title: `bench ${runId} ${i}`, memberIds: others },
        ),
      );
      this.conversations[i] = { idx: i, id: conv.id, type: spec.type, members: spec.members };
    };
    const indexed = specs.map((spec, i) => ({ spec, i }));
    // DMs first: a group takes only people who share a conversation with its creator (docs/adr/0012), so the
    // creator then opens a DM with each member it has none with yet. Those DMs carry no bench traffic and are
    // not part of the world.
    await mapLimit(
      indexed.filter((x) => x.spec.type === 'dm'),
      conc,
      (x) => create(x.spec, x.i),
    );
    const paired = new Set(
      specs.filter((s) => s.type === 'dm').map((s) => [...s.members].sort((a, b) => a - b).join(',')),
    );
    const consent = specs
      .filter((s) => s.type === 'group')
      .flatMap((s) => s.members.filter((m) => m !== s.creator).map((m) => [s.creator, m] as const))
      .filter(([a, b]) => !paired.has([a, b].sort((x, y) => x - y).join(',')));
    await mapLimit(consent, conc, ([a, b]) =>
      retrying(() =>
        this.api.createConversation((this.users[a] as BenchUser).accessToken, {
          type: 'dm',
          peerId: (this.users[b] as BenchUser).id,
        }),
      ),
    );
    await mapLimit(
      indexed.filter((x) => x.spec.type === 'group'),
      conc,
      (x) => create(x.spec, x.i),
    );
    for (const c of this.conversations)
      for (const m of c.members) (this.users[m] as BenchUser).conversations.push(c.idx);
    for (const c of this.conversations) {
      if (c.type === 'group') (this.users[c.members.at(-1) as number] as BenchUser).observer = true;
    }
    log(`setup: ${specs.length} conversations in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  }

  /** Refresh access tokens older than `maxAgeMs` (the access token lives 15 minutes). */
  async refreshTokens(maxAgeMs = 10 * 60_000): Promise<void> {
    const stale = this.users.filter((u) => Date.now() - u.tokenAt > maxAgeMs);
    await mapLimit(stale, 8, async (u) => {
      const auth = await retrying(() => this.api.refresh(u.refreshToken));
      u.accessToken = auth.accessToken;
      u.refreshToken = auth.refreshToken;
      u.tokenAt = Date.now();
    });
  }
}
