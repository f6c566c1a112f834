import type { ChangeRecord, MessageSentRecord } from '#contracts/kafka.ts';
import type { Message } from '#contracts/models.ts';
import type { ServerEvent } from '#contracts/ws.ts';
import { changeClock, planChanges, type TargetState } from '#core/changes.ts';
import { newId } from '#core/ids.ts';
import { clientKey, planPersist, toInbound } from '#core/persist.ts';
import type { ClientMsgClaim, ReadPointer, RealtimePorts, RemovedConnection } from '#core/ports.ts';

/**
 * In-memory ports for the pure core's unit tests (the only place fakes are used). Connections map to users;
 * `goneConnections` answer 410 on push; `pushes` records every delivered event.
 */
export class FakeWorld {
  now = 1_700_000_000_000;
  members = new Map<string, string[]>();
  connections = new Map<string, { userId: string; expiresAt: number }>();
  goneConnections = new Set<string>();
  slowConnections = new Set<string>();
  pushes: { connectionId: string; event: ServerEvent }[] = [];
  published: MessageSentRecord[] = [];
  /** Published change records (edit, delete, reaction). */
  changes: ChangeRecord[] = [];
  publishFails = 0;
  lastSeen = new Map<string, number>();
  claims = new Map<string, string>();
  rate = new Map<string, number>();
  rows = new Map<string, { message: Message; seq: number }>();
  lastSeq = new Map<string, number>();
  clientOwners = new Map<string, string>();
  pointers = new Map<string, ReadPointer>();
  closed: string[] = [];
  /** Issue 14: message state after changes (by message id), and the change ids already applied. */
  targets = new Map<string, TargetState>();
  appliedChanges = new Set<string>();
  logs: { level: string; message: string }[] = [];
  storeDown = false;
  pushed = new Set<string>();

  connect(connectionId: string, userId: string, ttlMs = 900_000): void {
    this.connections.set(connectionId, { userId, expiresAt: this.now + ttlMs });
  }

  eventsFor(connectionId: string): ServerEvent[] {
    return this.pushes.filter((p) => p.connectionId === connectionId).map((p) => p.event);
  }

  private live(userId: string): string[] {
    return [...this.connections]
      .filter(([, c]) => c.userId === userId && c.expiresAt > this.now)
      .map(([id]) => id);
  }

  private remove(connectionId: string, now: number): RemovedConnection | null {
    const c = this.connections.get(connectionId);
    if (!c) return null;
    this.connections.delete(connectionId);
    return {
      connectionId,
      userId: c.userId,
      lastConnection: this.live(c.userId).length === 0,
      lastActiveAt: Math.min(now, c.expiresAt - 900_000),
    };
  }

  private checkStore(): void {
    if (this.storeDown)
      throw Object.assign(new Error('All host(s) tried for query failed'), { name: 'NoHostAvailableError' });
  }

  ports(): RealtimePorts {
    return {
      now: () => this.now,
      newId: (now) => newId(now),
      log: {
        info: (message) => this.logs.push({ level: 'info', message }),
        warn: (message) => this.logs.push({ level: 'warn', message }),
        error: (message) => this.logs.push({ level: 'error', message }),
      },
      memberIds: async (c) => [...(this.members.get(c) ?? [])],
      isMember: async (c, u) => (this.members.get(c) ?? []).includes(u),
      contactIds: async (u) => {
        const set = new Set<string>();
        for (const list of this.members.values()) if (list.includes(u)) for (const m of list) set.add(m);
        set.delete(u);
        return [...set];
      },
      addConnection: async (cid, uid, now) => {
        this.connections.set(cid, { userId: uid, expiresAt: now + 900_000 });
        return { firstConnection: this.live(uid).length === 1 };
      },
      removeConnection: async (cid, now) => this.remove(cid, now),
      setLastSeen: async (u, at) => {
        this.lastSeen.set(u, at);
      },
      lapsedConnections: async (now, limit) =>
        [...this.connections]
          .filter(([, c]) => c.expiresAt <= now)
          .map(([id]) => id)
          .slice(0, limit),
      withinRate: async (cid, scope, perSecond, now) => {
        const key = `${cid}|${scope}|${Math.floor(now / 1000)}`;
        const n = (this.rate.get(key) ?? 0) + 1;
        this.rate.set(key, n);
        return n <= perSecond;
      },
      pushToUsers: async (userIds, events, options) => {
        const list = (Array.isArray(events) ? events : [events]) as ServerEvent[];
        let delivered = 0;
        let failed = 0;
        const gone: RemovedConnection[] = [];
        for (const u of new Set(userIds)) {
          for (const cid of this.live(u)) {
            if (cid === options?.exceptConnectionId) continue;
            if (this.goneConnections.has(cid)) {
              const r = this.remove(cid, this.now);
              if (r) gone.push(r);
              continue;
            }
            if (this.slowConnections.has(cid)) {
              failed++;
              continue;
            }
            for (const event of list) {
              this.pushes.push({ connectionId: cid, event });
              delivered++;
            }
          }
        }
        return { delivered, failed, gone };
      },
      closeConnection: async (cid) => {
        this.closed.push(cid);
      },
      pushedAlready: async (c, ids) => new Set(ids.filter((id) => this.pushed.has(`${c}|${id}`))),
      markPushed: async (c, ids) => {
        for (const id of ids) this.pushed.add(`${c}|${id}`);
      },
      claimClientMsgId: async (c, s, m, candidate): Promise<ClientMsgClaim> => {
        const key = `${c}|${s}|${m}`;
        const existing = this.claims.get(key);
        if (existing) {
          const [messageId, state] = existing.split(':') as [string, string];
          return { messageId, published: state === 's' };
        }
        this.claims.set(key, `${candidate}:p`);
        return { messageId: candidate, published: false };
      },
      markPublished: async (c, s, m, id) => {
        this.claims.set(`${c}|${s}|${m}`, `${id}:s`);
      },
      publish: async (record) => {
        if (this.publishFails > 0) {
          this.publishFails--;
          throw Object.assign(new Error('broker down'), { name: 'KafkaJSConnectionError' });
        }
        if (record.type === 'message.sent') this.published.push(record);
        else this.changes.push(record);
      },
      persistMessages: async (conversationId, input) => {
        this.checkStore();
        const messages = input.map((m) => toInbound(m).message);
        const existingSeqs = new Map<string, number>();
        for (const m of messages) {
          const row = this.rows.get(m.id);
          if (row) existingSeqs.set(m.id, row.seq);
        }
        const owners = new Map<string, string>();
        for (const m of messages) {
          const k = `${conversationId}|${clientKey(m.senderId, m.clientMsgId)}`;
          const o = this.clientOwners.get(k);
          if (o) owners.set(clientKey(m.senderId, m.clientMsgId), o);
        }
        const plan = planPersist(messages, {
          lastSeq: this.lastSeq.get(conversationId) ?? 0,
          existingSeqs,
          clientOwners: owners,
        });
        for (const r of plan.rows) {
          this.rows.set(r.message.id, { message: r.message, seq: r.seq });
          this.clientOwners.set(
            `${conversationId}|${clientKey(r.message.senderId, r.message.clientMsgId)}`,
            r.message.id,
          );
        }
        this.lastSeq.set(conversationId, plan.lastSeq);
        // The senders' own read pointers, as the store writes them with the state.
        for (const r of plan.rows) {
          const key = `${conversationId}|${r.message.senderId}`;
          const current = this.pointers.get(key);
          if (!current || current.lastReadSeq < r.seq)
            this.pointers.set(key, {
              lastReadId: r.message.id,
              lastReadSeq: r.seq,
              readAt: r.message.sentAt,
            });
        }
        return {
          stored: plan.rows,
          duplicates: plan.duplicates,
          members: [...(this.members.get(conversationId) ?? [])],
          persistedAt: this.now,
        };
      },
      messageSeq: async (_c, id) => this.rows.get(id)?.seq ?? null,
      messageTarget: async (_c, id) => {
        this.checkStore();
        const row = this.rows.get(id);
        if (!row) return null;
        const t = this.targets.get(id);
        return {
          id,
          senderId: row.message.senderId,
          body: t?.deleted ? '' : row.message.body,
          deleted: t?.deleted ?? false,
        };
      },
      reactionEmojis: async (_c, id) => [...(this.targets.get(id)?.reactions.keys() ?? [])],
      applyChanges: async (conversationId, changes) => {
        this.checkStore();
        const redelivered = changes.filter((c) => this.appliedChanges.has(c.change.changeId));
        const pending = changes.filter((c) => !this.appliedChanges.has(c.change.changeId));
        const targets = new Map<string, TargetState>();
        for (const c of changes) {
          const row = this.rows.get(c.change.messageId);
          if (!row) continue;
          const t = this.targets.get(row.message.id);
          targets.set(
            row.message.id,
            t ?? { senderId: row.message.senderId, deleted: false, reactions: new Map() },
          );
        }
        const members = [...(this.members.get(conversationId) ?? [])];
        const plan = planChanges(pending, changeClock(pending, null, new Map()), targets, new Set(members));
        for (const [id, t] of plan.targets) this.targets.set(id, t);
        for (const c of pending) this.appliedChanges.add(c.change.changeId);
        for (const op of plan.ops) {
          const row = this.rows.get(op.messageId);
          if (!row) continue;
          if (op.kind === 'edit') row.message = { ...row.message, body: op.body, editedAt: op.editedAt };
          if (op.kind === 'delete') row.message = { ...row.message, body: '', deletedAt: op.deletedAt };
        }
        const messages = new Map<string, Message>();
        for (const id of targets.keys()) {
          const row = this.rows.get(id);
          if (row) messages.set(id, row.message);
        }
        return {
          members,
          redelivered: redelivered.map((c) => c.change),
          effective: plan.effective,
          refused: plan.refused,
          messages,
        };
      },
      advanceReadPointer: async (c, u, to) => {
        this.checkStore();
        const key = `${c}|${u}`;
        const current = this.pointers.get(key);
        if (current && current.lastReadSeq >= to.lastReadSeq) return { advanced: false, pointer: current };
        this.pointers.set(key, to);
        return { advanced: true, pointer: to };
      },
    };
  }
}

/** A protocol message with a ULID-shaped id (for planner tests). */
export function message(n: number, over: Partial<Message> = {}): Message {
  const id = `01HZZZZZZZZZZZZZZZZZ${String(n).padStart(6, '0')}`;
  return {
    id,
    conversationId: 'c1',
    senderId: 'alice',
    clientMsgId: `cm-${n}`,
    body: `hello ${n}`,
    sentAt: new Date(1_700_000_000_000 + n).toISOString(),
    ...over,
  };
}
