'use client';

import { useRouter } from 'next/navigation';
import type { ComponentProps, MouseEvent } from 'react';

/**
 * A link to a page of this app, followed on the client like `next/link` (a plain click navigates without a
 * reload; a modified or middle click, or a `target`, is left to the browser), without next/link's
 * prefetching runtime: about 3 KB gzip less on every page's first load, and a static export has nothing to
 * prefetch that is not already in the chunks.
 */
export function AppLink({ href, onClick, ...rest }: ComponentProps<'a'> & { href: string }) {
  const router = useRouter();
  const follow = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (rest.target && rest.target !== '_self') return;
    e.preventDefault();
    router.push(href);
  };
  return <a href={href} onClick={follow} {...rest} />;
}
