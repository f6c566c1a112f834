'use client';

import { lazy, memo, Suspense, useState } from 'react';

/**
 * The Markdown pipeline (react-markdown, GFM, sanitizing; about 35 KB gzip) is a chunk of its own, off the
 * first load of the page: `preloadMarkdown()` starts it as soon as the chat mounts, and the conversation pane
 * waits for it (ChatShell.tsx), so the first history page shows as Markdown at once; a body rendered before it
 * is in (or when it failed to load) shows as its plain text until it is.
 */
let loading: Promise<typeof import('./MarkdownBody.tsx')> | null = null;
/** The chunk once it is in: bodies rendered after that render as Markdown at once (no plain-text frame). */
let loaded: typeof import('./MarkdownBody.tsx')['default'] | null = null;
export function preloadMarkdown(): Promise<typeof import('./MarkdownBody.tsx')> {
  loading ??= import('./MarkdownBody.tsx').then(
    (m) => {
      loaded = m.default;
      return m;
    },
    (e: unknown) => {
      loading = null;
      throw e;
    },
  );
  return loading;
}

const MarkdownBody = lazy(preloadMarkdown);

/** A message body: GFM Markdown, sanitized, code highlighted, `@mention` of me marked (see MarkdownBody). */
export const Markdown = memo(function Markdown({
  body,
  mine,
  mention,
}: {
  body: string;
  mine: boolean;
  mention?: string | null;
}) {
  // decided once per body, so that a body never remounts when the chunk arrives
  const [Body] = useState(() => loaded);
  if (Body) {
    return (
      <div className={`md ${mine ? 'md-mine' : ''}`}>
        <Body body={body} mention={mention} />
      </div>
    );
  }
  return (
    <div className={`md ${mine ? 'md-mine' : ''}`}>
      <Suspense fallback={<p className="whitespace-pre-wrap break-words">{body}</p>}>
        <MarkdownBody body={body} mention={mention} />
      </Suspense>
    </div>
  );
});
