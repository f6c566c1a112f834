/** Endpoints of one deployment, read at run time from `/config.json` so one static build serves them all. */
export interface AppConfig {
  httpApi: string;
  wsApi: string;
}

let pending: Promise<AppConfig> | null = null;

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Parses a config document; throws on anything but two absolute URLs of the right schemes. */
export function parseConfig(raw: unknown): AppConfig {
  if (typeof raw !== 'object' || raw === null) throw new Error('config.json is not an object');
  const { httpApi, wsApi } = raw as Record<string, unknown>;
  if (typeof httpApi !== 'string' || !/^https?:\/\//.test(httpApi))
    throw new Error('config.json: bad httpApi');
  if (typeof wsApi !== 'string' || !/^wss?:\/\//.test(wsApi)) throw new Error('config.json: bad wsApi');
  return { httpApi: trimSlash(httpApi), wsApi: trimSlash(wsApi) };
}

/** The local defaults (docs/protocol.md), used when the host serves no config.json (e.g. `next dev`). */
function localDefaults(): AppConfig {
  const host = typeof location === 'undefined' ? 'localhost' : location.hostname;
  return { httpApi: `http://${host}:8081`, wsApi: `ws://${host}:8080` };
}

export function loadConfig(): Promise<AppConfig> {
  pending ??= fetch('/config.json', { cache: 'no-store' })
    .then(async (res) => {
      if (!res.ok) return localDefaults();
      return parseConfig(await res.json());
    })
    .catch((e: unknown) => {
      // A network failure is not "no config": forget it so the next call tries again.
      pending = null;
      throw e;
    });
  return pending;
}
