import { config } from 'zod';

/**
 * zod 4 compiles fast object parsers with `new Function`, and probes whether that is allowed when the first
 * object schema is built. Under the app's CSP (no 'unsafe-eval', docs/auth.md) the probe is refused and the
 * browser reports a CSP violation. Without the JIT nothing is evaluated and parsing is the same, a little slower.
 * Imported before the contracts (`contracts.ts`) so it runs before any schema exists.
 */
config({ jitless: true });
