import { AppLink } from '@/components/ui/AppLink.tsx';

export default function NotFound() {
  return (
    <main className="flex min-h-dvh flex-col items-center justify-center gap-3 bg-gray-50 p-8 text-center dark:bg-gray-950">
      <p className="text-sm font-semibold text-indigo-700 dark:text-indigo-300">404</p>
      <h1 className="text-2xl font-bold">This page does not exist</h1>
      <AppLink
        href="/chat"
        className="mt-2 rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600"
      >
        Back to your chats
      </AppLink>
    </main>
  );
}
