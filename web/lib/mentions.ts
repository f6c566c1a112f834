import type { Element, ElementContent, Root, RootContent } from 'hast';
import { MENTION_START } from './mention-suggest.ts';

/**
 * Mentions of me in a message body: `@myusername` as a `<mark class="mention">`, where the server found the
 * mention (the message's `mentions` holds my id: MessageList passes my username only then). A rehype plugin
 * that runs after sanitizing (it adds only its own element), in text only: never inside code, links or a mark.
 */

const SKIP = new Set(['code', 'pre', 'a', 'mark', 'kbd', 'samp']);

/**
 * Usernames are `[a-z0-9_]`; matched case-insensitively, not inside a word, an e-mail address or `@@`: the
 * server's rule (functions/src/core/notifications.ts, `findMentions`), so what is marked is what it found.
 */
function pattern(username: string): RegExp | null {
  const u = username.replace(/[^A-Za-z0-9_]/g, '');
  return u ? new RegExp(`${MENTION_START}${u}(?![A-Za-z0-9_])`, 'gi') : null;
}

/** `text` cut into plain and mention parts, in order (adjacent parts never both plain). */
export function splitMentions(text: string, username: string): Array<{ text: string; mention: boolean }> {
  const re = pattern(username);
  if (!re) return [{ text, mention: false }];
  const parts: Array<{ text: string; mention: boolean }> = [];
  let at = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > at) parts.push({ text: text.slice(at, m.index), mention: false });
    parts.push({ text: m[0], mention: true });
    at = m.index + m[0].length;
  }
  if (at < text.length || parts.length === 0) parts.push({ text: text.slice(at), mention: false });
  return parts;
}

function mark(text: string): Element {
  return {
    type: 'element',
    tagName: 'mark',
    properties: { className: ['mention'] },
    children: [{ type: 'text', value: text }],
  };
}

function highlight<T extends RootContent | ElementContent>(children: T[], username: string): T[] {
  const out: T[] = [];
  for (const child of children) {
    if (child.type === 'text') {
      const parts = splitMentions(child.value, username);
      if (parts.length === 1 && !parts[0]?.mention) out.push(child);
      else for (const p of parts) out.push((p.mention ? mark(p.text) : { type: 'text', value: p.text }) as T);
    } else if (child.type === 'element' && !SKIP.has(child.tagName)) {
      child.children = highlight(child.children, username);
      out.push(child);
    } else out.push(child);
  }
  return out;
}

/** The rehype plugin: `[rehypeMentions, { username }]`. */
export function rehypeMentions(options: { username: string }) {
  return (tree: Root): void => {
    tree.children = highlight(tree.children, options.username);
  };
}
