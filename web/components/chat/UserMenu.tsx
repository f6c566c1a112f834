'use client';

import { lazy, Suspense, useEffect, useId, useRef, useState } from 'react';
import { MenuIcon } from '../ui/icons.tsx';

/** The menu's content (theme, notifications, sign-out) is a small chunk loaded when it first opens. */
const UserMenuPanel = lazy(() => import('./UserMenuPanel.tsx').then((m) => ({ default: m.UserMenuPanel })));

/** Me, theme, notifications and sign-out, in a small menu. */
export function UserMenu() {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const id = useId();

  useEffect(() => {
    if (!open) return;
    const onDown = (e: PointerEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('pointerdown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  return (
    <div className="relative" ref={ref}>
      <button
        type="button"
        aria-haspopup="true"
        aria-expanded={open}
        aria-controls={`${id}-menu`}
        aria-label="Account and settings"
        onClick={() => setOpen((v) => !v)}
        className="rounded-lg p-2 text-gray-700 hover:bg-gray-100 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-gray-300 dark:hover:bg-gray-800"
      >
        <MenuIcon className="size-5" />
      </button>
      {open && (
        <Suspense fallback={null}>
          <UserMenuPanel id={`${id}-menu`} onClose={() => setOpen(false)} />
        </Suspense>
      )}
    </div>
  );
}
