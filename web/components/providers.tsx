'use client';

import { createContext, type ReactNode, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import { ApiClient } from '@/lib/api/client.ts';
import { type Session, SessionStore } from '@/lib/api/session.ts';
import { loadConfig } from '@/lib/config.ts';
import { applyTheme, readThemePreference } from '@/lib/theme.ts';

interface AppServices {
  api: ApiClient;
  sessions: SessionStore;
}

const ServicesContext = createContext<AppServices | null>(null);

// The endpoints are asked for as soon as this module runs, on every page: the static HTML preloads /config.json
// (app/layout.tsx), and this first fetch is what uses that response (a preload left unused is a wasted request
// and a console warning). Memoized; a failure is forgotten and the first request tries again.
if (typeof window !== 'undefined') loadConfig().catch(() => undefined);

/** One API client and session store per tab. */
export function AppProviders({ children }: { children: ReactNode }) {
  const [services] = useState<AppServices>(() => {
    const sessions = new SessionStore();
    return { sessions, api: new ApiClient({ config: loadConfig, sessions }) };
  });
  useSystemTheme();
  return <ServicesContext.Provider value={services}>{children}</ServicesContext.Provider>;
}

export function useServices(): AppServices {
  const s = useContext(ServicesContext);
  if (!s) throw new Error('useServices outside AppProviders');
  return s;
}

const noop = () => () => {};

/** True once the page runs in the browser (the static HTML was rendered without a session). */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    noop,
    () => true,
    () => false,
  );
}

/** The signed-in session, or null; re-renders on sign-in, refresh, sign-out (in any tab). */
export function useSession(): Session | null {
  const { sessions } = useServices();
  return useSyncExternalStore(
    (fn) => sessions.subscribe(fn),
    () => sessions.get(),
    () => null,
  );
}

/** With the "system" theme, follow the OS when it switches between light and dark. */
function useSystemTheme(): void {
  useEffect(() => {
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const onChange = () => {
      if (readThemePreference() === 'system') applyTheme('system');
    };
    mq.addEventListener('change', onChange);
    return () => mq.removeEventListener('change', onChange);
  }, []);
}
