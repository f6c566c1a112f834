/**
 * The wire schemas (zod, about 35 KB gzip) are a chunk of their own, off the first load of the page: the HTTP
 * client and the realtime client load them with their first request or connection (in parallel with it) and
 * validate every answer and every server event with them, as before.
 */
export type Contracts = typeof import('@chat/functions/contracts');

let loaded: Contracts | null = null;
let loading: Promise<Contracts> | null = null;

export function loadContracts(): Promise<Contracts> {
  loading ??= import('./contracts.ts').then(
    (m) => {
      loaded = m;
      return m;
    },
    (e: unknown) => {
      loading = null;
      throw e;
    },
  );
  return loading;
}

/** The schemas when already loaded (after `loadContracts()` resolved), else null. */
export function loadedContracts(): Contracts | null {
  return loaded;
}
