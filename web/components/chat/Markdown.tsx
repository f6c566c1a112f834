'use client';

import { lazy, memo, Suspense, useState } from 'react';
import { loadedMarkdown, preloadMarkdown } from './markdown-chunk.ts';

/**
 * The Markdown pipeline (react-markdown, GFM, sanitizing; about 35 KB gzip) is a chunk of its own, off the
 * first load of the page (markdown-chunk.ts); a body rendered before it is in (or when it failed to load) shows
 * as its plain text until it is.
 */
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
  const [Body] = useState(loadedMarkdown);
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
