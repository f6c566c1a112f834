'use client';

import type { User } from '@chat/functions/contracts';
import { useRouter } from 'next/navigation';
import { type FormEvent, type ReactNode, useEffect, useId, useMemo, useState } from 'react';
import { useChat, useChatStore, useMe } from '@/hooks/chat.tsx';
import { describeError } from '@/lib/api/errors.ts';
import { limits } from '@/lib/limits.ts';
import { useServices } from '../providers.tsx';
import { Avatar, userLabel } from '../ui/Avatar.tsx';
import { Dialog } from '../ui/Dialog.tsx';
import { CloseIcon, SearchIcon } from '../ui/icons.tsx';

type Found = User & { online?: boolean };

/** Prefix search on usernames, debounced, cancelled when the query changes. */
function useUserSearch(query: string): { users: Found[]; loading: boolean; error: string | null } {
  const { api } = useServices();
  const me = useMe();
  const [state, setState] = useState<{ users: Found[]; loading: boolean; error: string | null }>({
    users: [],
    loading: false,
    error: null,
  });
  useEffect(() => {
    const q = query.trim().toLowerCase().replace(/^@/, '');
    if (!q) {
      setState({ users: [], loading: false, error: null });
      return;
    }
    const ctrl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    const t = setTimeout(() => {
      api
        .searchUsers(q.slice(0, limits.usernameMax), ctrl.signal)
        .then((users) =>
          setState({ users: users.filter((u) => u.id !== me.id), loading: false, error: null }),
        )
        .catch((e: unknown) => {
          if (ctrl.signal.aborted) return;
          setState({ users: [], loading: false, error: describeError(e) });
        });
    }, 200);
    return () => {
      clearTimeout(t);
      ctrl.abort();
    };
  }, [query, api, me.id]);
  return state;
}

export function NewChatDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [tab, setTab] = useState<'dm' | 'group'>('dm');
  const id = useId();
  return (
    <Dialog open={open} onClose={onClose} title="New conversation">
      <div role="tablist" aria-label="Kind of conversation" className="flex gap-1 px-5 pt-3">
        {(['dm', 'group'] as const).map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            id={`${id}-tab-${t}`}
            aria-selected={tab === t}
            aria-controls={`${id}-panel`}
            onClick={() => setTab(t)}
            className={`rounded-lg px-3 py-1.5 text-sm font-medium focus-visible:outline-2 focus-visible:outline-indigo-500 ${
              tab === t
                ? 'bg-indigo-50 text-indigo-800 dark:bg-indigo-950 dark:text-indigo-200'
                : 'text-gray-700 hover:bg-gray-100 dark:text-gray-300 dark:hover:bg-gray-800'
            }`}
          >
            {t === 'dm' ? 'Direct message' : 'Group'}
          </button>
        ))}
      </div>
      <div
        role="tabpanel"
        id={`${id}-panel`}
        aria-labelledby={`${id}-tab-${tab}`}
        className="flex min-h-0 flex-1 flex-col"
      >
        {tab === 'dm' ? <DirectForm onDone={onClose} /> : <GroupForm onDone={onClose} />}
      </div>
    </Dialog>
  );
}

function SearchBox({
  value,
  onChange,
  label,
}: {
  value: string;
  onChange: (v: string) => void;
  label: string;
}) {
  return (
    <div className="relative">
      <SearchIcon className="pointer-events-none absolute top-1/2 left-3 size-4 -translate-y-1/2 text-gray-500" />
      <input
        type="search"
        aria-label={label}
        placeholder="Search by username"
        autoComplete="off"
        autoCapitalize="none"
        spellCheck={false}
        // biome-ignore lint/a11y/noAutofocus: the dialog exists to type a name
        autoFocus
        value={value}
        onChange={(e) => onChange(e.target.value)}
        className="w-full rounded-lg border border-gray-300 bg-white py-2 pr-3 pl-9 text-base outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/30 dark:border-gray-700 dark:bg-gray-950"
      />
    </div>
  );
}

function Results({
  query,
  users,
  loading,
  error,
  render,
}: {
  query: string;
  users: Found[];
  loading: boolean;
  error: string | null;
  render: (u: Found) => ReactNode;
}) {
  if (error)
    return (
      <p role="alert" className="px-1 py-3 text-sm text-red-700 dark:text-red-300">
        {error}
      </p>
    );
  if (!query.trim())
    return (
      <p className="px-1 py-3 text-sm text-gray-600 dark:text-gray-400">Type the start of a username.</p>
    );
  if (loading && users.length === 0)
    return (
      <p className="px-1 py-3 text-sm text-gray-600 dark:text-gray-400" role="status">
        Searching…
      </p>
    );
  if (users.length === 0)
    return <p className="px-1 py-3 text-sm text-gray-600 dark:text-gray-400">Nobody found.</p>;
  return (
    <ul className="space-y-0.5 py-2" aria-label="People">
      {users.map(render)}
    </ul>
  );
}

function DirectForm({ onDone }: { onDone: () => void }) {
  const [query, setQuery] = useState('');
  const { users, loading, error } = useUserSearch(query);
  const store = useChatStore();
  const router = useRouter();
  const [busy, setBusy] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  async function start(u: Found) {
    setBusy(u.id);
    setFailure(null);
    try {
      const c = await store.createDm(u.id);
      onDone();
      router.push(`/chat?c=${encodeURIComponent(c.id)}`);
    } catch (e) {
      setFailure(describeError(e));
    } finally {
      setBusy(null);
    }
  }
  return (
    <div className="flex min-h-0 flex-1 flex-col px-5 py-4">
      <SearchBox value={query} onChange={setQuery} label="Find people" />
      {failure && (
        <p role="alert" className="mt-2 text-sm text-red-700 dark:text-red-300">
          {failure}
        </p>
      )}
      <div className="min-h-0 flex-1 overflow-y-auto">
        <Results
          query={query}
          users={users}
          loading={loading}
          error={error}
          render={(u) => (
            <li key={u.id}>
              <button
                type="button"
                disabled={busy !== null}
                onClick={() => start(u)}
                className="flex w-full items-center gap-3 rounded-lg px-2 py-2 text-left hover:bg-gray-100 focus-visible:outline-2 focus-visible:outline-indigo-500 disabled:opacity-60 dark:hover:bg-gray-800"
              >
                <Avatar seed={u.id} name={userLabel(u)} size="sm" online={u.online} />
                <span className="min-w-0 flex-1">
                  <span className="block truncate font-medium">{userLabel(u)}</span>
                  <span className="block truncate text-sm text-gray-600 dark:text-gray-400">
                    @{u.username}
                  </span>
                </span>
                {busy === u.id && <span className="text-sm text-gray-600 dark:text-gray-400">Opening…</span>}
              </button>
            </li>
          )}
        />
      </div>
    </div>
  );
}

function GroupForm({ onDone }: { onDone: () => void }) {
  const [title, setTitle] = useState('');
  const [query, setQuery] = useState('');
  const [picked, setPicked] = useState<Found[]>([]);
  const { users, loading, error } = useUserSearch(query);
  const store = useChatStore();
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const id = useId();
  // Groups take only people who already share a conversation with me (docs/adr/0012): the members of the
  // conversations loaded here. Anyone else is shown, but greyed out, with how to get there (a DM first).
  const conversations = useChat((s) => s.conversations);
  const contacts = useMemo(
    () => new Set(Object.values(conversations).flatMap((c) => c.members.map((m) => m.id))),
    [conversations],
  );
  const toggle = (u: Found) =>
    setPicked((p) => (p.some((x) => x.id === u.id) ? p.filter((x) => x.id !== u.id) : [...p, u]));
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!title.trim()) {
      setFailure('Give the group a title.');
      return;
    }
    if (picked.length === 0) {
      setFailure('Add at least one member.');
      return;
    }
    setBusy(true);
    setFailure(null);
    try {
      const c = await store.createGroup(
        title.trim(),
        picked.map((u) => u.id),
      );
      onDone();
      router.push(`/chat?c=${encodeURIComponent(c.id)}`);
    } catch (err) {
      setFailure(describeError(err));
      setBusy(false);
    }
  }
  return (
    <form onSubmit={submit} className="flex min-h-0 flex-1 flex-col gap-3 px-5 py-4">
      <div>
        <label htmlFor={`${id}-title`} className="mb-1 block text-sm font-medium">
          Title
        </label>
        <input
          id={`${id}-title`}
          value={title}
          maxLength={limits.groupTitleMaxChars}
          onChange={(e) => setTitle(e.target.value)}
          className="w-full rounded-lg border border-gray-300 bg-white px-3 py-2 text-base outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/30 dark:border-gray-700 dark:bg-gray-950"
        />
      </div>
      {picked.length > 0 && (
        <ul className="flex flex-wrap gap-1.5" aria-label="Members">
          {picked.map((u) => (
            <li key={u.id}>
              <button
                type="button"
                onClick={() => toggle(u)}
                aria-label={`Remove ${userLabel(u)}`}
                className="inline-flex items-center gap-1 rounded-full bg-indigo-50 py-0.5 pr-1.5 pl-2.5 text-sm text-indigo-900 hover:bg-indigo-100 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:bg-indigo-950 dark:text-indigo-100"
              >
                {userLabel(u)}
                <CloseIcon className="size-3.5" />
              </button>
            </li>
          ))}
        </ul>
      )}
      <SearchBox value={query} onChange={setQuery} label="Add members" />
      <p id={`${id}-consent`} className="text-sm text-gray-600 dark:text-gray-400">
        You can add people you already have a conversation with. To add someone new, send them a direct
        message first.
      </p>
      <div className="min-h-0 flex-1 overflow-y-auto">
        <Results
          query={query}
          users={users}
          loading={loading}
          error={error}
          render={(u) => {
            const on = picked.some((x) => x.id === u.id);
            const allowed = on || contacts.has(u.id);
            return (
              <li key={u.id}>
                <label
                  className={`flex items-center gap-3 rounded-lg px-2 py-2 ${allowed ? 'cursor-pointer hover:bg-gray-100 dark:hover:bg-gray-800' : 'opacity-70'}`}
                >
                  <input
                    type="checkbox"
                    checked={on}
                    disabled={!allowed}
                    aria-describedby={allowed ? undefined : `${id}-consent`}
                    onChange={() => toggle(u)}
                    className="size-4 accent-indigo-600"
                  />
                  <Avatar seed={u.id} name={userLabel(u)} size="sm" online={u.online} />
                  <span className="min-w-0 flex-1">
                    <span className="block truncate font-medium">{userLabel(u)}</span>
                    <span className="block truncate text-sm text-gray-600 dark:text-gray-400">
                      @{u.username}
                      {allowed ? '' : ' · no conversation with you yet'}
                    </span>
                  </span>
                </label>
              </li>
            );
          }}
        />
      </div>
      {failure && (
        <p role="alert" className="text-sm text-red-700 dark:text-red-300">
          {failure}
        </p>
      )}
      <button
        type="submit"
        disabled={busy}
        className="rounded-lg bg-indigo-600 px-4 py-2.5 font-semibold text-white hover:bg-indigo-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:opacity-70"
      >
        {busy ? 'Creating…' : `Create group${picked.length ? ` with ${picked.length + 1}` : ''}`}
      </button>
    </form>
  );
}
