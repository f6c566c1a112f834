import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { preload } from 'react-dom';
import { AppProviders } from '@/components/providers.tsx';
import { themeInitScript } from '@/lib/theme.ts';
import './globals.css';

export const metadata: Metadata = {
  title: 'Chat',
  description: 'Fast, private, real-time chat.',
  icons: { icon: '/icon.svg' },
};

export const viewport: Viewport = {
  width: 'device-width',
  initialScale: 1,
  viewportFit: 'cover',
  // a phone's on-screen keyboard shrinks the page (Chrome on Android) instead of covering its bottom: the
  // composer sits above the keyboard and the timeline, shorter, stays at its newest message
  interactiveWidget: 'resizes-content',
  themeColor: [
    { media: '(prefers-color-scheme: light)', color: '#ffffff' },
    { media: '(prefers-color-scheme: dark)', color: '#030712' },
  ],
};

export default function RootLayout({ children }: { children: ReactNode }) {
  // The endpoints (lib/config.ts), fetched while the scripts download: `<link rel="preload" as="fetch">` in every
  // page's HTML (a server component: no client JavaScript). Every page's providers (components/providers.tsx) ask
  // for them as soon as their module runs, and that fetch uses this response. After a client-side navigation the
  // link is already in the document, so React adds none.
  preload('/config.json', { as: 'fetch', crossOrigin: 'anonymous' });
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        {/* biome-ignore lint/security/noDangerouslySetInnerHtml: a constant script, no user data */}
        <script dangerouslySetInnerHTML={{ __html: themeInitScript }} />
      </head>
      <body className="bg-white text-gray-900 antialiased dark:bg-gray-950 dark:text-gray-100">
        <AppProviders>{children}</AppProviders>
      </body>
    </html>
  );
}
