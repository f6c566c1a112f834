'use client';

import {
  type ComponentProps,
  isValidElement,
  type ReactElement,
  type ReactNode,
  useEffect,
  useState,
  useSyncExternalStore,
} from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import rehypeSanitize from 'rehype-sanitize';
import remarkGfm from 'remark-gfm';
import { createHighlighterLoader, rehypeLazyHighlight } from '@/lib/highlight.ts';
import { remarkHtmlAsText, safeImageUrl, safeUrl, sanitizeSchema } from '@/lib/markdown.ts';
import { rehypeMentions } from '@/lib/mentions.ts';
import { CopyIcon } from '../ui/view-icons.tsx';

function SafeLink({ href, children }: ComponentProps<'a'>) {
  if (!href) return <span>{children}</span>;
  return (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  );
}

function SafeImage({ src, alt }: ComponentProps<'img'>) {
  const url = typeof src === 'string' ? safeImageUrl(src) : null;
  if (!url) return <span>{alt ? `[${alt}]` : '[image]'}</span>;
  return (
    <a href={url} target="_blank" rel="noopener noreferrer nofollow">
      {/* biome-ignore lint/performance/noImgElement: user content from arbitrary hosts */}
      <img src={url} alt={alt ?? ''} loading="lazy" referrerPolicy="no-referrer" decoding="async" />
    </a>
  );
}

function textOf(node: ReactNode): string {
  if (typeof node === 'string' || typeof node === 'number') return String(node);
  if (Array.isArray(node)) return node.map(textOf).join('');
  if (isValidElement<{ children?: ReactNode }>(node)) return textOf(node.props.children);
  return '';
}

/** The highlighting worker (lib/highlight-worker.ts), or null where there are no workers. */
function startHighlightWorker(): Worker | null {
  if (typeof Worker === 'undefined') return null;
  try {
    return new Worker(new URL('../../lib/highlight-worker.ts', import.meta.url), { type: 'module' });
  } catch {
    return null;
  }
}

type Plugins = NonNullable<ComponentProps<typeof ReactMarkdown>['rehypePlugins']>;

/**
 * The code highlighter: nothing until a code block is rendered, then the highlighting worker, which loads the
 * highlighter core and that block's language (lib/highlight.ts); each block renders again with its highlighted
 * tree.
 */
const highlighter = {
  plugins: null as Plugins | null,
  listeners: new Set<() => void>(),
  loader: createHighlighterLoader((lowlight) => {
    highlighter.plugins = [
      [rehypeSanitize, sanitizeSchema],
      // after sanitizing: it only adds its own class names
      [rehypeLazyHighlight, { lowlight }],
    ];
    for (const l of highlighter.listeners) l();
  }, startHighlightWorker),
  subscribe(fn: () => void): () => void {
    highlighter.listeners.add(fn);
    return () => highlighter.listeners.delete(fn);
  },
};

function CodeBlock({ children }: ComponentProps<'pre'>) {
  const [copied, setCopied] = useState(false);
  const code = isValidElement<{ className?: string; children?: ReactNode }>(children) ? children : null;
  const lang = /language-([\w-]+)/.exec(code?.props.className ?? '')?.[1];
  const fence = /(?:^|\s)(?:language|lang)-(\S+)/.exec(code?.props.className ?? '')?.[1];
  useEffect(() => {
    if (fence) highlighter.loader.want(fence);
  }, [fence]);
  const copy = () => {
    void navigator.clipboard?.writeText(textOf(code?.props.children ?? children)).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    });
  };
  return (
    <div className="not-prose my-1 overflow-hidden rounded-lg border border-gray-200 bg-gray-50 text-gray-900 dark:border-gray-700 dark:bg-gray-900 dark:text-gray-100">
      <div className="flex items-center justify-between border-b border-gray-200 px-3 py-1 text-xs text-gray-600 dark:border-gray-700 dark:text-gray-300">
        <span>{lang ?? 'code'}</span>
        <button
          type="button"
          onClick={copy}
          className="inline-flex items-center gap-1 rounded px-1.5 py-0.5 hover:bg-gray-200 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:hover:bg-gray-800"
          aria-label="Copy code"
        >
          <CopyIcon className="size-3.5" />
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <pre className="overflow-x-auto p-3 font-mono text-[0.85em] leading-relaxed">{children}</pre>
    </div>
  );
}

const components: Components = {
  a: SafeLink,
  img: SafeImage,
  pre: CodeBlock,
  input: ({ type, checked }) =>
    type === 'checkbox' ? (
      <input
        type="checkbox"
        checked={checked ?? false}
        disabled
        readOnly
        className="mr-1 align-middle"
        aria-label={checked ? 'done' : 'to do'}
      />
    ) : null,
};

const remarkPlugins = [remarkGfm, remarkHtmlAsText];
const plainPlugins: Plugins = [[rehypeSanitize, sanitizeSchema]];
/** Fenced code (``` or ~~~, also quoted or in a list): the only code the highlighter touches. */
const CODE = /```|~~~/;
const noSubscription = () => () => undefined;

/**
 * The rendered bodies, most recently used last: parsing a body (react-markdown builds its unified processor, GFM
 * included, then parses and transforms) is the costly part of a bubble, and a body is rendered again with the
 * same text and plugins many times (each bubble's mount, the render React throws away when a sibling suspends,
 * a conversation opened again). Keyed on the text and the mention; an entry holds for the plugins it was made
 * with (the highlighter's arrive as a new array each time a grammar comes in).
 */
const rendered = new Map<string, { base: Plugins; element: ReactElement }>();
const RENDERED_MAX = 500;

function renderBody(body: string, mention: string | null | undefined, base: Plugins): ReactElement {
  const key = `${mention ?? ''}\n${body}`;
  const hit = rendered.get(key);
  rendered.delete(key);
  if (hit?.base === base) {
    rendered.set(key, hit);
    return hit.element;
  }
  // after sanitizing: the mark is the plugin's own element
  const plugins: Plugins = mention ? [...base, [rehypeMentions, { username: mention }]] : base;
  // react-markdown's component is a plain function of its props (no hooks): its element tree can be kept
  const element = ReactMarkdown({
    remarkPlugins,
    rehypePlugins: plugins,
    components,
    urlTransform: safeUrl,
    children: body,
  });
  rendered.set(key, { base, element });
  if (rendered.size > RENDERED_MAX) {
    const oldest = rendered.keys().next().value;
    if (oldest !== undefined) rendered.delete(oldest);
  }
  return element;
}

/**
 * A message body: GFM Markdown, sanitized (no raw HTML, safe URLs only), links in a new tab without an opener
 * or referrer, code highlighted, `@mention` (my username, when the message mentions me) marked. The default
 * export of a chunk loaded by `Markdown.tsx`.
 */
export default function MarkdownBody({ body, mention }: { body: string; mention?: string | null }) {
  // only a body with code renders again when the highlighter (or another grammar) arrives
  const hasCode = CODE.test(body);
  const highlighted = useSyncExternalStore(
    hasCode ? highlighter.subscribe : noSubscription,
    () => (hasCode ? highlighter.plugins : null),
    () => null,
  );
  return renderBody(body, mention, highlighted ?? plainPlugins);
}
