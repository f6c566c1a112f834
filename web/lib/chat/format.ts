import type { Message } from '@chat/functions/contracts';

/** One line of plain text from a Markdown body, for list previews and notifications. */
export function previewText(body: string, max = 120): string {
  const text = body
    .replace(/```[^\n]*\n([\s\S]*?)```/g, '$1') // fenced code: keep the code
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1') // images: alt text
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // links: their text
    .replace(/`([^`]*)`/g, '$1')
    .replace(/^\s{0,3}(#{1,6}|>|[-*+]|\d+\.)\s+/gm, '')
    .replace(/(\*\*|__|~~)(.*?)\1/g, '$2')
    .replace(/(^|\W)[*_](\S(?:.*?\S)?)[*_](?=\W|$)/g, '$1$2')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** Local calendar day of an ISO time, as a sortable key. */
export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function formatClock(iso: string | number): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** List rows: the time today, the weekday this week, the date before that. */
export function formatListTime(iso: string, now = new Date()): string {
  const d = new Date(iso);
  if (sameDay(d, now)) return formatClock(iso);
  const days = (now.getTime() - d.getTime()) / 86_400_000;
  if (days < 6) return d.toLocaleDateString(undefined, { weekday: 'short' });
  if (d.getFullYear() === now.getFullYear())
    return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
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
