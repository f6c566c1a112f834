'use client';

import type { UserSettings } from '@chat/functions/contracts';
import { useEffect, useState } from 'react';
import { notificationPermission, requestNotificationPermission } from '@/lib/notifications.ts';
import {
  describePushError,
  disablePush,
  enablePush,
  loadSettings,
  type PushStatus,
  pushStatus,
  saveSettings,
} from '@/lib/push/client.ts';

function Switch({
  label,
  checked,
  disabled,
  onChange,
  testId,
}: {
  label: string;
  checked: boolean;
  disabled?: boolean;
  onChange: (next: boolean) => void;
  testId: string;
}) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={checked}
      disabled={disabled}
      data-testid={testId}
      onClick={() => onChange(!checked)}
      className="flex w-full items-center justify-between gap-3 rounded-lg px-3 py-2 text-left text-sm hover:bg-gray-100 focus-visible:outline-2 focus-visible:outline-indigo-500 disabled:cursor-not-allowed disabled:opacity-60 dark:hover:bg-gray-800"
    >
      <span>{label}</span>
      <span
        aria-hidden
        className={`relative inline-flex h-5 w-9 shrink-0 rounded-full transition-colors ${checked ? 'bg-indigo-600' : 'bg-gray-400 dark:bg-gray-600'}`}
      >
        <span
          className={`absolute top-0.5 size-4 rounded-full bg-white shadow transition-transform ${checked ? 'translate-x-4.5' : 'translate-x-0.5'}`}
        />
      </span>
    </button>
  );
}

const STATUS_TEXT: Record<PushStatus, string> = {
  on: 'On for this device, also while the app is closed.',
  off: 'Get notified on this device while the app is closed.',
  denied: 'Blocked in the browser’s site settings.',
  unsupported: 'This browser cannot receive push notifications.',
  unconfigured: 'This server sends no push notifications.',
};

/**
 * The user menu's notification settings: push on this device (asks for permission, subscribes, registers the
 * subscription; off unsubscribes) and "hide message content" (an account setting the server applies to every
 * push: only "New message" is sent). The push client is this chunk's own: loaded when the menu first opens.
 */
export function NotificationSettings({
  userId,
  api,
}: {
  userId: string;
  api: Parameters<typeof enablePush>[0];
}) {
  const [status, setStatus] = useState<PushStatus | null>(null);
  const [settings, setSettings] = useState<UserSettings | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [inTabAsk, setInTabAsk] = useState(false);

  useEffect(() => {
    setInTabAsk(notificationPermission() === 'default');
  }, []);

  useEffect(() => {
    let live = true;
    pushStatus(userId).then(
      (s) => live && setStatus(s),
      () => live && setStatus('off'),
    );
    loadSettings(api, userId).then(
      (s) => live && setSettings(s),
      (e: unknown) => live && setError(describePushError(e)),
    );
    return () => {
      live = false;
    };
  }, [api, userId]);

  const togglePush = async (on: boolean) => {
    setBusy(true);
    setError(null);
    try {
      setStatus(on ? await enablePush(api, userId) : await disablePush(api, userId));
    } catch (e) {
      setError(describePushError(e));
      setStatus(await pushStatus(userId).catch(() => 'off' as const));
    } finally {
      setBusy(false);
    }
  };

  const toggleHide = async (hide: boolean) => {
    if (!settings) return;
    setError(null);
    setSettings({ ...settings, pushPreview: !hide });
    try {
      setSettings(await saveSettings(api, userId, { pushPreview: !hide }));
    } catch (e) {
      setSettings(settings);
      setError(describePushError(e));
    }
  };

  const pushUsable = status === 'on' || status === 'off';
  return (
    <fieldset className="py-1" aria-busy={status === null || busy}>
      <legend className="px-3 pt-1 text-xs font-medium text-gray-600 dark:text-gray-400">
        Notifications
      </legend>
      <Switch
        label="Push notifications"
        testId="push-toggle"
        checked={status === 'on'}
        disabled={!pushUsable || busy}
        onChange={togglePush}
      />
      <p className="px-3 pb-1 text-xs text-gray-600 dark:text-gray-400" data-testid="push-status">
        {status ? STATUS_TEXT[status] : 'Checking…'}
      </p>
      {(status === 'unsupported' || status === 'unconfigured') && inTabAsk && (
        // no push here: notifications still work while a tab is open (lib/notifications.ts)
        <button
          type="button"
          className="w-full rounded-lg px-3 py-2 text-left text-sm hover:bg-gray-100 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:hover:bg-gray-800"
          onClick={async () => setInTabAsk((await requestNotificationPermission()) === 'default')}
        >
          Notify me while the app is open
        </button>
      )}
      <Switch
        label="Hide message content"
        testId="hide-content-toggle"
        checked={settings ? !settings.pushPreview : false}
        disabled={!settings}
        onChange={toggleHide}
      />
      <p className="px-3 pb-1 text-xs text-gray-600 dark:text-gray-400">
        Notifications then say only “New message”.
      </p>
      {error && (
        <p role="alert" className="px-3 pb-1 text-xs text-red-700 dark:text-red-300">
          {error}
        </p>
      )}
    </fieldset>
  );
}
