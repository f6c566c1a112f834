import type { ReactNode } from 'react';
import { preload } from 'react-dom';
import { ChatGate } from './ChatGate.tsx';

/**
 * A server component (rendered once, at build time): the static HTML of every (chat) page preloads the endpoints
 * (`/config.json`, lib/config.ts) while the page's scripts download, and loadConfig's fetch then uses that response
 * instead of starting after the scripts ran: one round trip less before the first API request. Here and not in
 * the client component below, so it costs the first load no JavaScript. The session gate: ChatGate.tsx.
 */
export default function ChatLayout({ children }: { children: ReactNode }) {
  preload('/config.json', { as: 'fetch', crossOrigin: 'anonymous' });
  return <ChatGate>{children}</ChatGate>;
}
