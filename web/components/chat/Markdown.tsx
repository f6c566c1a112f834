'use client';

import { lazy, memo, Suspense } from 'react';

/**
 * The Markdown pipeline (react-markdown, GFM, sanitizing; about 35 KB gzip) is a chunk of its own, off the
 * first load of the page: `preloadMarkdown()` starts it as soon as the chat mounts, so it is usually in before
 * the first history page; until then a body shows as its plain text.
 */
let loading: Promise<typeof import('./MarkdownBody.tsx')> | null = null;
export function preloadMarkdown(): Promise<typeof import('./MarkdownBody.tsx')> {
  loading ??= import('./MarkdownBody.tsx').catch((e: unknown) => {
    loading = null;
    throw e;
  });
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
  return (
    <div className={`md ${mine ? 'md-mine' : ''}`}>
      <Suspense fallback={<p className="whitespace-pre-wrap break-words">{body}</p>}>
        <MarkdownBody body={body} mention={mention} />
      </Suspense>
    </div>
  );
});
