'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { useMe } from '@/hooks/chat.tsx';
import { forgetDevice } from '@/lib/push/client.ts';
import { readThemePreference, saveThemePreference, type ThemePreference } from '@/lib/theme.ts';
import { useServices } from '../providers.tsx';
import { Avatar, userLabel } from '../ui/Avatar.tsx';
import { NotificationSettings } from './NotificationSettings.tsx';

/** The open user menu (see UserMenu). */
export function UserMenuPanel({ id, onClose }: { id: string; onClose: () => void }) {
  const me = useMe();
  const { api } = useServices();
  const router = useRouter();
  const [theme, setTheme] = useState<ThemePreference>('system');

  useEffect(() => {
    setTheme(readThemePreference());
  }, []);

  const chooseTheme = (t: ThemePreference) => {
    setTheme(t);
    saveThemePreference(t);
  };

  async function signOut() {
    onClose();
    // this device stops receiving my pushes (docs/protocol.md, "Notifications"); bounded, then sign out anyway
    await forgetDevice(api, me.id);
    await api.logout();
    router.replace('/signin');
  }

  const item =
    'flex w-full items-center gap-2 rounded-lg px-3 py-2 text-left text-sm hover:bg-gray-100 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:hover:bg-gray-800';

  return (
    <div
      id={id}
      className="absolute top-full right-0 z-20 mt-1 w-64 rounded-xl border border-gray-200 bg-white p-1.5 shadow-lg dark:border-gray-800 dark:bg-gray-900"
    >
      <div className="flex items-center gap-3 px-3 py-2">
        <Avatar seed={me.id} name={userLabel(me)} size="sm" />
        <div className="min-w-0">
          <p className="truncate text-sm font-semibold">{userLabel(me)}</p>
          <p className="truncate text-xs text-gray-600 dark:text-gray-400">@{me.username}</p>
        </div>
      </div>
      <hr className="my-1 border-gray-200 dark:border-gray-800" />
      <fieldset className="px-3 py-2">
        <legend className="mb-1.5 text-xs font-medium text-gray-600 dark:text-gray-400">Theme</legend>
        <div className="grid grid-cols-3 gap-1 rounded-lg bg-gray-100 p-0.5 dark:bg-gray-800">
          {(['light', 'dark', 'system'] as const).map((t) => (
            <button
              key={t}
              type="button"
              aria-pressed={theme === t}
              onClick={() => chooseTheme(t)}
              className={`rounded-md px-2 py-1 text-xs font-medium capitalize focus-visible:outline-2 focus-visible:outline-indigo-500 ${
                theme === t ? 'bg-white shadow-sm dark:bg-gray-950' : 'text-gray-700 dark:text-gray-300'
              }`}
            >
              {t}
            </button>
          ))}
        </div>
      </fieldset>
      <hr className="my-1 border-gray-200 dark:border-gray-800" />
      <NotificationSettings userId={me.id} api={api} />
      <hr className="my-1 border-gray-200 dark:border-gray-800" />
      <button type="button" className={`${item} text-red-700 dark:text-red-300`} onClick={signOut}>
        Sign out
      </button>
    </div>
  );
}
