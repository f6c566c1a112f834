/**
 * How long browsers keep the web app's files: one policy for the local web server (local/web-server.ts) and the
 * S3 objects CloudFront serves (infra/lib/constructs/site.ts), so that what a laptop shows after a rebuild is what
 * users see after a deploy.
 *
 * - `/_next/static/…`: content-hashed names, never rewritten: a year, immutable.
 * - Everything else (the pages, `sw.js`, icons, the manifest; `config.json` has its own deployment): `no-cache`,
 *   revalidated on every load. Without a Cache-Control header a browser may keep a page heuristically (a tenth of
 *   its age since Last-Modified), and a page kept across a deploy names chunks the deploy removed.
 */
export const HASHED_ASSETS_PREFIX = '_next/static/';
export const HASHED_ASSETS_CACHE_CONTROL = 'public, max-age=31536000, immutable';
export const PAGES_CACHE_CONTROL = 'no-cache';

/** The Cache-Control of a path of the static export (`/chat`, `/_next/static/chunks/x.js`, …). */
export const cacheControlFor = (urlPath: string): string =>
  urlPath.replace(/^\/+/, '').startsWith(HASHED_ASSETS_PREFIX)
    ? HASHED_ASSETS_CACHE_CONTROL
    : PAGES_CACHE_CONTROL;
