'use client';

import { useRouter } from 'next/navigation';
import { type ReactNode, useEffect } from 'react';
import { useHydrated, useSession } from '@/components/providers.tsx';

/** Sign-in and sign-up: a centred card; a signed-in visitor goes straight to the chat. */
export default function AuthLayout({ children }: { children: ReactNode }) {
  const session = useSession();
  const hydrated = useHydrated();
  const router = useRouter();
  useEffect(() => {
    if (hydrated && session) router.replace('/chat');
  }, [hydrated, session, router]);
  return (
    <main className="flex min-h-dvh flex-col items-center justify-center bg-gray-50 px-4 py-10 dark:bg-gray-950">
      <div className="mb-8 flex items-center gap-3">
        {/* biome-ignore lint/performance/noImgElement: a static export serves the SVG as is */}
        <img src="/icon.svg" alt="" width={40} height={40} />
        <span className="text-2xl font-semibold tracking-tight">Chat</span>
      </div>
      {children}
    </main>
  );
}
