/**
 * The web app's Content-Security-Policy, one definition for every server of the static export: CloudFront's
 * response headers policy (infra/lib/constructs/site.ts) and the local web server (local/web-server.ts).
 * Pure: no DOM, no Node APIs, so the CDK app and the local server import it as is (`@chat/web/csp`).
 *
 * `img-src` must admit what the Markdown renderer lets through (lib/markdown.ts: `safeImageUrl` and the
 * sanitize schema allow `https:` image sources only), or the images it renders are blocked.
 */

export interface CspOptions {
  /** `connect-src` sources besides `'self'`: the HTTP and WebSocket API origins (or patterns). */
  readonly connectSrc: readonly string[];
  /**
   * Where attachments live (the S3 endpoint's origin, or a pattern): uploads PUT there (`connect-src`) and image
   * thumbnails load from there (`img-src`). Needed where that is not already `https:`, e.g. a local S3 server on
   * `http://127.0.0.1:9000`.
   */
  readonly attachmentsSrc?: readonly string[];
  /**
   * `'sha256-…'` sources of the static export's inline scripts (`web/out/csp-hashes.json`, see
   * `lib/csp-hashes.ts`): the only inline scripts allowed; there is no `'unsafe-inline'` for scripts.
   */
  readonly scriptHashes?: readonly string[];
}

export type CspDirectives = Readonly<Record<string, readonly string[]>>;

/** The policy as directives (name → sources), in a stable order. */
export function cspDirectives(options: CspOptions): CspDirectives {
  return {
    'default-src': ["'self'"],
    // Next.js static export inlines a few bootstrap scripts: allowed by their hashes only.
    'script-src': ["'self'", ...(options.scriptHashes ?? [])],
    // Stylesheets from the site only, no 'unsafe-inline': the export's HTML has no `style=` attribute and no
    // `<style>` element, and styles set from script through the CSSOM (React's `style` props, `el.style.x = …`,
    // `style.cssText`: the theme script, the composer's height, Next's route announcer) are not governed by CSP.
    // Refused under it (the style does not apply): a `style=` attribute in server-rendered HTML or in markup set
    // as `innerHTML`, a `<style>` element (React 19's `<style precedence>` too, which the app does not use), and
    // `setAttribute('style', …)`. web/e2e/security-headers.test.ts runs the app under it and checks the refusals.
    'style-src': ["'self'"],
    // https: the Markdown renderer's images (https only); data:/blob: the app's own generated images.
    'img-src': ["'self'", 'https:', 'data:', 'blob:', ...(options.attachmentsSrc ?? [])],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'", ...options.connectSrc, ...(options.attachmentsSrc ?? [])],
    // the service worker of Web Push notifications (/sw.js, web/sw/sw.ts)
    'worker-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  };
}

/** The `Content-Security-Policy` header value. */
export function buildCsp(options: CspOptions): string {
  return Object.entries(cspDirectives(options))
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}

/** Parses a policy header into directives (lower-case names; the first occurrence of a name wins). */
export function parseCsp(policy: string): CspDirectives {
  const out: Record<string, string[]> = {};
  for (const part of policy.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (!name) continue;
    const key = name.toLowerCase();
    if (!(key in out)) out[key] = sources;
  }
  return out;
}

/**
 * Whether `directive` of `policy` (falling back to `default-src`) admits `url` for a page served from
 * `selfOrigin`. Covers the source forms this project uses: `'none'`, `'self'`, scheme sources (`https:`) and
 * host sources with an optional scheme and a leading `*.` wildcard; nonces and hashes admit no URL.
 */
export function cspAllows(policy: string, directive: string, url: string, selfOrigin: string): boolean {
  const directives = parseCsp(policy);
  const sources = directives[directive] ?? directives['default-src'];
  if (!sources) return true;
  const target = new URL(url);
  const self = new URL(selfOrigin);
  return sources.some((source) => {
    const s = source.toLowerCase();
    if (s === "'none'") return false;
    if (s === "'self'") return target.origin === self.origin;
    if (/^[a-z][a-z0-9+.-]*:$/.test(s)) return target.protocol === s;
    const m = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(\*\.)?([a-z0-9.-]+)(?::(\d+|\*))?(\/.*)?$/.exec(s);
    if (!m) return false;
    const [, scheme, wildcard, host = '', port] = m;
    if (scheme && `${scheme}:` !== target.protocol) return false;
    if (
      !scheme &&
      target.protocol !== self.protocol &&
      target.protocol !== 'https:' &&
      target.protocol !== 'wss:'
    )
      return false;
    const hostOk = wildcard ? target.hostname.endsWith(`.${host}`) : target.hostname === host;
    const portOk = port === '*' || !port || target.port === port;
    return hostOk && portOk;
  });
}
