import type { Message } from '@chat/functions/contracts';
import { formatClock, formatListTime, sameDay } from './format.ts';

/**
 * What only an open conversation shows (day separators, message grouping, "last seen"): apart from format.ts,
 * which the conversation list needs in the first load of the page, so that this loads with the conversation
 * view.
 */

/** Local calendar day of an ISO time, as a sortable key. */
export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** Day separators: Today, Yesterday, or the full date. */
export function formatDay(iso: string, now = new Date()): string {
  const d = new Date(iso);
  if (sameDay(d, now)) return 'Today';
  const y = new Date(now);
  y.setDate(now.getDate() - 1);
  if (sameDay(d, y)) return 'Yesterday';
  return d.toLocaleDateString(undefined, {
    weekday: 'long',
    month: 'long',
    day: 'numeric',
    ...(d.getFullYear() === now.getFullYear() ? {} : { year: 'numeric' }),
  });
}

export function formatLastSeen(iso: string | null, now = new Date()): string {
  if (!iso) return 'offline';
  const d = new Date(iso);
  const mins = Math.round((now.getTime() - d.getTime()) / 60_000);
  if (mins < 1) return 'last seen just now';
  if (mins < 60) return `last seen ${mins} min ago`;
  if (sameDay(d, now)) return `last seen at ${formatClock(iso)}`;
  return `last seen ${formatListTime(iso, now)}`;
}

export type TimelineItem<M> =
  | { kind: 'day'; key: string; label: string }
  | { kind: 'message'; key: string; message: M; firstOfGroup: boolean };

/**
 * Timeline rows with a separator before each new day, and "first of group" where the sender changes or five
 * minutes passed (the name and spacing show only there).
 */
export function buildTimeline<M extends Pick<Message, 'senderId' | 'sentAt'> & { key: string }>(
  messages: readonly M[],
  now = new Date(),
): TimelineItem<M>[] {
  const out: TimelineItem<M>[] = [];
  let prev: M | null = null;
  let prevDay = '';
  for (const m of messages) {
    const day = dayKey(m.sentAt);
    if (day !== prevDay) {
      out.push({ kind: 'day', key: `day-${day}`, label: formatDay(m.sentAt, now) });
      prevDay = day;
      prev = null;
    }
    const firstOfGroup =
      !prev || prev.senderId !== m.senderId || Date.parse(m.sentAt) - Date.parse(prev.sentAt) > 5 * 60_000;
    out.push({ kind: 'message', key: m.key, message: m, firstOfGroup });
    prev = m;
  }
  return out;
}
