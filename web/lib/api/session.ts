import type { AuthResponse, User } from '@chat/functions/contracts';

/** What a signed-in browser holds. The refresh token rotates: only the newest one is ever kept. */
export interface Session {
  user: User;
  accessToken: string;
  refreshToken: string;
  /** Epoch ms when the access token expires. */
  expiresAt: number;
}

export function sessionFrom(auth: AuthResponse): Session {
  return {
    user: auth.user,
    accessToken: auth.accessToken,
    refreshToken: auth.refreshToken,
    expiresAt: Date.parse(auth.expiresAt),
  };
}

/** Minimal storage surface (localStorage in the browser, a Map in tests). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export function memoryStorage(): KeyValueStorage {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
  };
}

function browserStorage(): KeyValueStorage {
  try {
    if (typeof localStorage !== 'undefined') return localStorage;
  } catch {
    // storage disabled (privacy mode): fall through
  }
  return memoryStorage();
}

const KEY = 'chat.session.v1';

function isSession(v: unknown): v is Session {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return (
    typeof s.accessToken === 'string' &&
    typeof s.refreshToken === 'string' &&
    typeof s.expiresAt === 'number' &&
    typeof s.user === 'object' &&
    s.user !== null
  );
}

/**
 * The session, persisted, observable, and shared between tabs: a refresh in one tab is seen by the others
 * (the `storage` event), so no tab keeps using a revoked refresh token.
 */
export class SessionStore {
  private current: Session | null;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly storage: KeyValueStorage = browserStorage()) {
    this.current = this.read();
    if (typeof window !== 'undefined') {
      window.addEventListener('storage', (e) => {
        if (e.key !== KEY) return;
        this.current = this.read();
        this.emit();
      });
    }
  }

  /** Re-reads storage (another tab may have rotated the tokens) and returns what it holds. */
  reload(): Session | null {
    this.current = this.read();
    return this.current;
  }

  get(): Session | null {
    return this.current;
  }

  set(session: Session | null): void {
    this.current = session;
    try {
      if (session) this.storage.setItem(KEY, JSON.stringify(session));
      else this.storage.removeItem(KEY);
    } catch {
      // quota or privacy mode: the in-memory session still works for this tab
    }
    this.emit();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }

  private read(): Session | null {
    try {
      const raw = this.storage.getItem(KEY);
      if (!raw) return null;
      const v: unknown = JSON.parse(raw);
      return isSession(v) ? v : null;
    } catch {
      return null;
    }
  }
}
