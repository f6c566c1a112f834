'use client';

import { useRouter } from 'next/navigation';
import { type ReactNode, useEffect } from 'react';
import { ChatSession, FullPageSpinner } from '@/components/chat/ChatSession.tsx';
import { useHydrated, useSession } from '@/components/providers.tsx';

/** Everything under (chat) needs a session; without one, to sign-in. */
export default function ChatLayout({ children }: { children: ReactNode }) {
  const session = useSession();
  const hydrated = useHydrated();
  const router = useRouter();
  useEffect(() => {
    if (hydrated && !session) router.replace('/signin');
  }, [hydrated, session, router]);
  if (!hydrated || !session) return <FullPageSpinner label="Loading…" />;
  return <ChatSession session={session}>{children}</ChatSession>;
}
