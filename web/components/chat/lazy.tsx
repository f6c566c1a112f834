'use client';

import { type ComponentProps, lazy, useState } from 'react';

/**
 * The message actions (issue 14) are chunks of their own, off the first load of /chat: the extras (reply
 * quotes, attachments, reaction chips, the composer's tray) are preloaded when the chat mounts, like the
 * Markdown renderer; the menu, the emoji picker and the inline editor load on first use.
 */
let extras: Promise<typeof import('./MessageExtras.tsx')> | null = null;
/** The extras' chunk once it is in: rendered directly then, without `React.lazy` (no empty frame). */
let extrasLoaded: typeof import('./MessageExtras.tsx') | null = null;
export function preloadExtras(): Promise<typeof import('./MessageExtras.tsx')> {
  extras ??= import('./MessageExtras.tsx').then(
    (m) => {
      extrasLoaded = m;
      return m;
    },
    (e: unknown) => {
      extras = null;
      throw e;
    },
  );
  return extras;
}

const actions = () => import('./MessageActions.tsx');

const LazyExtras = lazy(() => preloadExtras().then((m) => ({ default: m.Extras })));
/**
 * A message's reply quote, attachments or reactions. The conversation pane waits for their chunk (ChatShell.tsx),
 * as for the Markdown renderer's, so a first history page with attachments shows them at once rather than an
 * empty bubble that grows when the chunk arrives (a layout shift); `React.lazy` only if it is not in yet.
 */
export function Extras(props: ComponentProps<typeof import('./MessageExtras.tsx')['Extras']>) {
  // decided once per element, so that it never remounts when the chunk arrives
  const [Loaded] = useState(() => extrasLoaded?.Extras ?? null);
  return Loaded ? <Loaded {...props} /> : <LazyExtras {...props} />;
}
export const ComposerTray = lazy(() => preloadExtras().then((m) => ({ default: m.ComposerTray })));
export const MessageMenu = lazy(() => actions().then((m) => ({ default: m.MessageMenu })));
export const MessageEditor = lazy(() => actions().then((m) => ({ default: m.MessageEditor })));
