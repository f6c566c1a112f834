'use client';

import { useSearchParams } from 'next/navigation';
import { Suspense } from 'react';
import { ChatShell } from '@/components/chat/ChatShell.tsx';

/** `/chat?c=<conversationId>`: a query string, because a static export has no dynamic routes. */
function ChatRoute() {
  const params = useSearchParams();
  return <ChatShell activeId={params.get('c')} />;
}

export default function ChatPage() {
  return (
    <Suspense>
      <ChatRoute />
    </Suspense>
  );
}
