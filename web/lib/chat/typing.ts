import type { StoreContext } from './ports.ts';

const TYPING_RESEND_MS = 3_000;
const TYPING_IDLE_MS = 4_000;
const TYPING_MIN_GAP_MS = 1_000;

/** My typing state towards the others in one conversation. */
interface TypingOut {
  /** What the user is doing now. */
  want: boolean;
  /** What the others were last told. */
  told: boolean;
  lastFrameAt: number;
  lastStartAt: number;
  idleTimer: ReturnType<typeof setTimeout> | null;
  paceTimer: ReturnType<typeof setTimeout> | null;
}

/**
 * My "typing…" towards the others: shown until a pause, a send or a blur. Frames are paced (one per
 * TYPING_MIN_GAP_MS at most, the server forwards only a couple per second) and the latest wish always goes
 * out, so a quick stop-start is never lost. (The others' indicators are state: see `state.ts`.)
 */
export class TypingController {
  private readonly out = new Map<string, TypingOut>();

  constructor(private readonly ctx: Pick<StoreContext, 'realtime' | 'now'>) {}

  /** Called on each keystroke. */
  noteTyping(conversationId: string): void {
    const t = this.state(conversationId);
    if (t.idleTimer) clearTimeout(t.idleTimer);
    t.idleTimer = setTimeout(() => this.stopTyping(conversationId), TYPING_IDLE_MS);
    t.want = true;
    if (!t.told || this.ctx.now() - t.lastStartAt > TYPING_RESEND_MS) this.flush(conversationId);
  }

  stopTyping(conversationId: string): void {
    const t = this.out.get(conversationId);
    if (!t) return;
    if (t.idleTimer) clearTimeout(t.idleTimer);
    t.idleTimer = null;
    t.want = false;
    if (t.told) this.flush(conversationId);
  }

  /** A sent message ends my typing for the others (they clear it when it arrives): no stop frame needed. */
  endedBySend(conversationId: string): void {
    const t = this.out.get(conversationId);
    if (!t) return;
    if (t.idleTimer) clearTimeout(t.idleTimer);
    t.idleTimer = null;
    t.want = false;
    t.told = false;
  }

  stop(): void {
    for (const t of this.out.values()) {
      if (t.idleTimer) clearTimeout(t.idleTimer);
      if (t.paceTimer) clearTimeout(t.paceTimer);
    }
    this.out.clear();
  }

  private state(conversationId: string): TypingOut {
    let t = this.out.get(conversationId);
    if (!t) {
      t = { want: false, told: false, lastFrameAt: 0, lastStartAt: 0, idleTimer: null, paceTimer: null };
      this.out.set(conversationId, t);
    }
    return t;
  }

  private flush(conversationId: string): void {
    const t = this.state(conversationId);
    if (t.paceTimer) return; // the paced frame will carry the latest wish
    const wait = t.lastFrameAt + TYPING_MIN_GAP_MS - this.ctx.now();
    if (wait > 0) {
      t.paceTimer = setTimeout(() => {
        t.paceTimer = null;
        this.flush(conversationId);
      }, wait);
      return;
    }
    const now = this.ctx.now();
    if (t.want && t.told && now - t.lastStartAt <= TYPING_RESEND_MS) return;
    if (!t.want && !t.told) return;
    const state = t.want ? 'start' : 'stop';
    if (!this.ctx.realtime.send({ action: 'typing', conversationId, state })) return;
    t.told = t.want;
    t.lastFrameAt = now;
    if (t.want) t.lastStartAt = now;
  }
}
