import { useSyncExternalStore } from 'react';

/** A file being attached to the next message: uploading (progress 0–1), uploaded (`id`), or failed. */
export interface Upload {
  key: string;
  filename: string;
  contentType: string;
  size: number;
  progress: number;
  /** The attachment id once the upload finished. */
  id: string | null;
  error: string | null;
  /** A local preview of an image (object URL). */
  preview: string | null;
}

/**
 * The message actions' screen state, per tab (not the chat state: nothing here goes over the wire): whose
 * menu is open, which message is being edited, what the composer replies to and attaches.
 */
export interface UiState {
  menu: string | null;
  editing: string | null;
  /** conversationId → message id */
  replyTo: Readonly<Record<string, string | undefined>>;
  /** conversationId → files for the next message */
  uploads: Readonly<Record<string, readonly Upload[] | undefined>>;
}

let state: UiState = { menu: null, editing: null, replyTo: {}, uploads: {} };
const listeners = new Set<() => void>();

export function getUi(): UiState {
  return state;
}

export function setUi(fn: (s: UiState) => Partial<UiState>): void {
  state = { ...state, ...fn(state) };
  for (const l of listeners) l();
}

const subscribe = (l: () => void) => {
  listeners.add(l);
  return () => listeners.delete(l);
};

/** One slice of the UI state (the selector returns a value that is stable while the slice is unchanged). */
export function useUi<T>(selector: (s: UiState) => T): T {
  return useSyncExternalStore(
    subscribe,
    () => selector(state),
    () => selector(state),
  );
}
