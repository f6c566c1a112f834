/**
 * The Markdown renderer's chunk (MarkdownBody.tsx: react-markdown, GFM, sanitizing; about 35 KB gzip), off the
 * first load of the page: `preloadMarkdown()` starts it as soon as the chat mounts, and the conversation pane
 * waits for it (ChatShell.tsx), so the first history page shows as Markdown at once. A module of its own so that
 * the first load carries this and not the Markdown component (Markdown.tsx, with the conversation pane).
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

/** The renderer if its chunk is in, else null. */
export function loadedMarkdown(): typeof import('./MarkdownBody.tsx')['default'] | null {
  return loaded;
}
