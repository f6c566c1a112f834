/** Helpers for the local runtime's own tests (real sockets, no mocks). */
import { fileURLToPath } from 'node:url';
import type { InvokeStartEvent, LocalRuntime } from './index.ts';

export const fixture = (name: string): string =>
  fileURLToPath(new URL(`./test-fixtures/${name}`, import.meta.url));

/** An event as a function received it (loosely typed for assertions). */
export interface RecordedEvent {
  readonly requestContext: { readonly connectionId: string } & Record<string, unknown>;
  readonly headers?: Record<string, string>;
  readonly [key: string]: unknown;
}

/** Collects, in order, the events a function is invoked with. */
export const recorder = (rt: LocalRuntime, fn: string): RecordedEvent[] => {
  const events: RecordedEvent[] = [];
  rt.events.on('invokeStart', (e: InvokeStartEvent) => {
    if (e.fn === fn) events.push(e.event as RecordedEvent);
  });
  return events;
};

/** Maps whose keys are data (header names, parameters, topic-partitions), not fields. */
const isOpenMap = (path: string): boolean =>
  /(^|\.)(headers|multiValueHeaders|queryStringParameters|multiValueQueryStringParameters|pathParameters|stageVariables|records)$/.test(
    path,
  ) || /headers\[\]$/.test(path);

/** Every `path: type` of a JSON value, open maps collapsed to `*`. */
export const shape = (value: unknown, path = '', out = new Set<string>()): string[] => {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  out.add(`${path || '$'}: ${type}`);
  if (Array.isArray(value)) for (const x of value) shape(x, `${path}[]`, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      shape(v, isOpenMap(path) ? `${path}.*` : path ? `${path}.${k}` : k, out);
    }
  }
  return [...out].sort();
};
