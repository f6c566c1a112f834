'use client';

import { lazy } from 'react';

/**
 * The message actions (issue 14) are chunks of their own, off the first load of /chat: the extras (reply
 * quotes, attachments, reaction chips, the composer's tray) are preloaded when the chat mounts, like the
 * Markdown renderer; the menu, the emoji picker and the inline editor load on first use.
 */
let extras: Promise<typeof import('./MessageExtras.tsx')> | null = null;
export function preloadExtras(): Promise<typeof import('./MessageExtras.tsx')> {
  extras ??= import('./MessageExtras.tsx').catch((e: unknown) => {
    extras = null;
    throw e;
  });
  return extras;
}

const actions = () => import('./MessageActions.tsx');

export const Extras = lazy(() => preloadExtras().then((m) => ({ default: m.Extras })));
export const ComposerTray = lazy(() => preloadExtras().then((m) => ({ default: m.ComposerTray })));
export const MessageMenu = lazy(() => actions().then((m) => ({ default: m.MessageMenu })));
export const MessageEditor = lazy(() => actions().then((m) => ({ default: m.MessageEditor })));
