import { describe, expect, it } from 'vitest';
import { bundleServiceWorker, committedServiceWorker } from '../../scripts/build-sw.ts';
import { buildCsp, cspAllows } from '../csp.ts';

describe('public/sw.js', () => {
  it('is the bundle of web/sw/sw.ts and its imports (run `npm run build:sw -w web` after editing them)', async () => {
    expect(committedServiceWorker()).toBe(await bundleServiceWorker());
  });

  it('is a classic script with the push and click handlers, and no fetch handler (nothing is cached)', () => {
    const sw = committedServiceWorker();
    expect(sw).not.toMatch(/^\s*(import|export)\s/m);
    expect(sw).toContain('addEventListener("push"');
    expect(sw).toContain('addEventListener("notificationclick"');
    expect(sw).not.toContain('addEventListener("fetch"');
  });
});

describe('the content security policy', () => {
  it('lets the page register its own service worker, and no other origin’s', () => {
    const policy = buildCsp({ connectSrc: ['https://api.example'] });
    expect(cspAllows(policy, 'worker-src', 'https://chat.example/sw.js', 'https://chat.example')).toBe(true);
    expect(cspAllows(policy, 'worker-src', 'https://evil.example/sw.js', 'https://chat.example')).toBe(false);
  });
});
