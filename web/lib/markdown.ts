import type { Root as MdastRoot, RootContent } from 'mdast';
import { defaultUrlTransform } from 'react-markdown';
import type { Options as SanitizeSchema } from 'rehype-sanitize';
import { defaultSchema } from 'rehype-sanitize';

/**
 * Raw HTML in a message is shown as the text it is, never parsed: `<b>hi</b>` reads as typed and a
 * `<script>` is just characters. (react-markdown would otherwise drop it silently.)
 */
export function remarkHtmlAsText() {
  return (tree: MdastRoot): void => {
    const walk = (node: { children?: RootContent[] }): void => {
      if (!node.children) return;
      node.children = node.children.map((child) =>
        child.type === 'html' ? ({ type: 'text', value: child.value } as RootContent) : child,
      );
      for (const child of node.children) walk(child as { children?: RootContent[] });
    };
    walk(tree);
  };
}

/**
 * Only web and mail links survive: `javascript:`, `data:`, `vbscript:` and every other scheme become an
 * empty URL (react-markdown's rule), and protocol-relative URLs are refused too.
 */
export function safeUrl(url: string): string {
  const cleaned = defaultUrlTransform(url.trim());
  if (cleaned.startsWith('//')) return '';
  return cleaned;
}

/** Images load only from https (no tracking over plain http, no data: payloads). */
export function safeImageUrl(url: string | undefined): string | null {
  if (!url) return null;
  return /^https:\/\//i.test(url) ? url : null;
}

/** GitHub's sanitize schema, tightened: no inputs (task-list checkboxes stay, read only), no ids to clobber. */
export const sanitizeSchema: SanitizeSchema = {
  ...defaultSchema,
  protocols: { href: ['http', 'https', 'mailto'], src: ['https'] },
};
