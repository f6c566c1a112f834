'use client';

import { useRouter } from 'next/navigation';
import { useEffect } from 'react';
import { FullPageSpinner } from '@/components/chat/ChatSession.tsx';
import { useHydrated, useSession } from '@/components/providers.tsx';

/** `/`: to the chat when signed in, to sign-in otherwise. */
export default function Home() {
  const session = useSession();
  const hydrated = useHydrated();
  const router = useRouter();
  useEffect(() => {
    if (hydrated) router.replace(session ? '/chat' : '/signin');
  }, [hydrated, session, router]);
  return <FullPageSpinner label="Loading…" />;
}
