import type { Message, MessageEvent, MessageTrace } from '@chat/functions/contracts';
import type { ChatState } from './state.ts';

/**
 * The latency trace in the console (docs/protocol.md, "Latency trace"): with `localStorage['chat:trace']` set
 * to `1`, each live message that carries a `trace` logs one line. The store imports this module only then, so
 * it is not part of the first load.
 */
export const TRACE_FLAG = 'chat:trace';

/** The platform's hops in order; each is timed from the one before it that the trace has. */
const HOPS = ['received', 'produced', 'fetched', 'persisted', 'pushed'] as const;

const ms = (n: number) => `${Math.round(n)} ms`;

/**
 * One line, or null when the trace has no hop: `message <id>:`, then `sent→received` (my own message, when
 * this client knows when it wrote the frame), each hop's duration, `pushed→client`, and the total from
 * `received` to `clientAt`, with the time from my send in parentheses. A hop the trace lacks is skipped (the
 * next one is timed from the one before it). Hops on different hosts compare their clocks: a negative duration
 * is clock skew, shown as it is.
 */
export function formatTrace(
  message: Pick<Message, 'id'>,
  trace: MessageTrace,
  clientAt: number,
  sentAt?: number | null,
): string | null {
  const hops = HOPS.flatMap((name) => {
    const at = trace[name];
    return typeof at === 'number' && Number.isFinite(at) ? [{ name, at }] : [];
  });
  const first = hops[0];
  const last = hops[hops.length - 1];
  if (!first || !last) return null;
  const parts: string[] = [];
  if (sentAt != null) parts.push(`sent→${first.name} ${ms(first.at - sentAt)}`);
  for (let i = 1; i < hops.length; i++) {
    const from = hops[i - 1] as (typeof hops)[number];
    const to = hops[i] as (typeof hops)[number];
    parts.push(`${from.name}→${to.name} ${ms(to.at - from.at)}`);
  }
  parts.push(`${last.name}→client ${ms(clientAt - last.at)}`);
  const total = `total ${ms(clientAt - first.at)}${first.name === 'received' ? '' : ` from ${first.name}`}`;
  const fromSend = sentAt != null ? ` (${ms(clientAt - sentAt)} from my send)` : '';
  return `[chat:trace] message ${message.id}: ${parts.join(' · ')} · ${total}${fromSend}`;
}

/** Logs one message's trace line with `console.info` (nothing for a trace without hops). */
export function logTrace(
  message: Pick<Message, 'id'>,
  trace: MessageTrace,
  clientAt: number,
  sentAt?: number | null,
): void {
  const line = formatTrace(message, trace, clientAt, sentAt);
  // biome-ignore lint/suspicious/noConsole: the console is where the trace is asked for (protocol, "Latency trace")
  if (line) console.info(line);
}

/**
 * Logs a live message event's trace, received at `clientAt`, with my send time when the message is mine and
 * `state` (as it was when the event came, before the message settled the outbox) holds it.
 */
export function logEventTrace(
  e: Pick<MessageEvent, 'message' | 'trace'>,
  state: Pick<ChatState, 'me' | 'outbox'>,
  clientAt: number,
): void {
  if (!e.trace) return;
  const sentAt =
    e.message.senderId === state.me.id
      ? (state.outbox.find((o) => o.clientMsgId === e.message.clientMsgId)?.lastSentAt ?? null)
      : null;
  logTrace(e.message, e.trace, clientAt, sentAt);
}

/**
 * `formatTrace`'s line read back (scripts/ui-latency.ts): the message id and each hop's duration by name
 * (`{ 'received→produced': 3, …, total: 22 }`), or null for another line.
 */
export function parseTraceLine(line: string): { id: string; hops: Record<string, number> } | null {
  const head = /^\[chat:trace\] message (\S+):/.exec(line);
  if (!head?.[1]) return null;
  const hops: Record<string, number> = {};
  for (const m of line.matchAll(/(\w+)→(\w+) (-?\d+) ms/g)) hops[`${m[1]}→${m[2]}`] = Number(m[3]);
  const total = /· total (-?\d+) ms/.exec(line);
  if (total?.[1]) hops.total = Number(total[1]);
  return { id: head[1], hops };
}
