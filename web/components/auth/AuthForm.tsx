'use client';

import { useRouter } from 'next/navigation';
import { type FormEvent, useId, useState } from 'react';
import { AppLink } from '@/components/ui/AppLink.tsx';
import { describeError } from '@/lib/api/errors.ts';
import { limits } from '@/lib/limits.ts';
import { useServices } from '../providers.tsx';

type Mode = 'signin' | 'signup';

const USERNAME_RE = /^[a-z0-9_]+$/;

function validate(mode: Mode, username: string, password: string): string | null {
  if (mode === 'signin') return username && password ? null : 'Enter your username and password.';
  if (username.length < limits.usernameMin || username.length > limits.usernameMax)
    return `Usernames have ${limits.usernameMin}–${limits.usernameMax} characters.`;
  if (!USERNAME_RE.test(username)) return 'Usernames use lower-case letters, digits and _ only.';
  if (password.length < limits.passwordMin)
    return `Passwords have at least ${limits.passwordMin} characters.`;
  if (password.length > limits.passwordMax) return `Passwords have at most ${limits.passwordMax} characters.`;
  return null;
}

export function AuthForm({ mode }: { mode: Mode }) {
  const { api } = useServices();
  const router = useRouter();
  const id = useId();
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [showPassword, setShowPassword] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signup = mode === 'signup';

  async function submit(e: FormEvent) {
    e.preventDefault();
    const name = username.trim().toLowerCase();
    const problem = validate(mode, name, password);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (signup) await api.signup(name, password, displayName.trim() || undefined);
      else await api.login(name, password);
      router.replace('/chat');
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  const input =
    'block w-full rounded-lg border border-gray-300 bg-white px-3 py-2.5 text-base text-gray-900 shadow-sm outline-none placeholder:text-gray-500 focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/30 dark:border-gray-700 dark:bg-gray-900 dark:text-gray-100 dark:placeholder:text-gray-400';
  const label = 'mb-1.5 block text-sm font-medium text-gray-800 dark:text-gray-200';

  return (
    <div className="w-full max-w-sm rounded-2xl border border-gray-200 bg-white p-6 shadow-sm sm:p-8 dark:border-gray-800 dark:bg-gray-900">
      <h1 className="text-xl font-semibold">{signup ? 'Create your account' : 'Welcome back'}</h1>
      <p className="mt-1 text-sm text-gray-600 dark:text-gray-400">
        {signup ? 'It takes ten seconds. No email needed.' : 'Sign in to pick up where you left off.'}
      </p>
      <form
        className="mt-6 space-y-4"
        onSubmit={submit}
        noValidate
        aria-describedby={error ? `${id}-error` : undefined}
      >
        <div>
          <label htmlFor={`${id}-username`} className={label}>
            Username
          </label>
          <input
            id={`${id}-username`}
            name="username"
            className={input}
            autoComplete="username"
            autoCapitalize="none"
            autoCorrect="off"
            spellCheck={false}
            required
            maxLength={limits.usernameMax}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            aria-describedby={signup ? `${id}-username-hint` : undefined}
          />
          {signup && (
            <p id={`${id}-username-hint`} className="mt-1 text-xs text-gray-600 dark:text-gray-400">
              {limits.usernameMin}–{limits.usernameMax} characters: a–z, 0–9 and _
            </p>
          )}
        </div>
        {signup && (
          <div>
            <label htmlFor={`${id}-display`} className={label}>
              Display name <span className="font-normal text-gray-600 dark:text-gray-400">(optional)</span>
            </label>
            <input
              id={`${id}-display`}
              name="displayName"
              className={input}
              autoComplete="nickname"
              maxLength={limits.displayNameMax}
              value={displayName}
              onChange={(e) => setDisplayName(e.target.value)}
            />
          </div>
        )}
        <div>
          <label htmlFor={`${id}-password`} className={label}>
            Password
          </label>
          <div className="relative">
            <input
              id={`${id}-password`}
              name="password"
              type={showPassword ? 'text' : 'password'}
              className={`${input} pr-16`}
              autoComplete={signup ? 'new-password' : 'current-password'}
              required
              maxLength={limits.passwordMax}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <button
              type="button"
              className="absolute inset-y-0 right-0 rounded-r-lg px-3 text-sm font-medium text-indigo-700 hover:text-indigo-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-300"
              onClick={() => setShowPassword((v) => !v)}
              aria-pressed={showPassword}
              aria-label={showPassword ? 'Hide password' : 'Show password'}
            >
              {showPassword ? 'Hide' : 'Show'}
            </button>
          </div>
        </div>
        {error && (
          <p
            id={`${id}-error`}
            role="alert"
            className="rounded-lg bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200"
          >
            {error}
          </p>
        )}
        <button
          type="submit"
          disabled={busy}
          className="flex w-full items-center justify-center gap-2 rounded-lg bg-indigo-600 px-4 py-2.5 font-semibold text-white shadow-sm hover:bg-indigo-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:opacity-70"
        >
          {busy && (
            <span
              className="size-4 animate-spin rounded-full border-2 border-white border-t-transparent"
              aria-hidden
            />
          )}
          {signup ? 'Create account' : 'Sign in'}
        </button>
      </form>
      <p className="mt-6 text-center text-sm text-gray-600 dark:text-gray-400">
        {signup ? 'Already have an account? ' : 'New here? '}
        <AppLink
          href={signup ? '/signin' : '/signup'}
          className="font-semibold text-indigo-700 underline-offset-2 hover:underline dark:text-indigo-300"
        >
          {signup ? 'Sign in' : 'Create an account'}
        </AppLink>
      </p>
    </div>
  );
}
