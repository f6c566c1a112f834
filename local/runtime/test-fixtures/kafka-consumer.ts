/**
 * Test fixture for the Kafka event source mapping. Each record value is JSON `{ id, failUntil?, fail?, sleepMs? }`:
 * `failUntil: n` fails the batch until it has been seen n times (module state, so run it with one environment),
 * `fail` always fails, `sleepMs` keeps the invocation busy.
 */
import { setTimeout as delay } from 'node:timers/promises';

const seen = new Map<string, number>();

interface EsmEvent {
  readonly records: Record<string, Array<{ readonly value: string | null }>>;
}

export const handler = async (event: EsmEvent) => {
  const ids: string[] = [];
  let sleep = 0;
  let failure: string | undefined;
  for (const records of Object.values(event.records)) {
    for (const r of records) {
      const v = JSON.parse(Buffer.from(r.value ?? '', 'base64').toString('utf8')) as {
        id: string;
        failUntil?: number;
        fail?: boolean;
        sleepMs?: number;
      };
      ids.push(v.id);
      const n = (seen.get(v.id) ?? 0) + 1;
      seen.set(v.id, n);
      if (v.fail) failure = `record ${v.id} always fails`;
      if (v.failUntil !== undefined && n < v.failUntil) failure = `record ${v.id} fails (seen ${n} times)`;
      sleep = Math.max(sleep, v.sleepMs ?? 0);
    }
  }
  if (sleep > 0) await delay(sleep);
  if (failure) throw new Error(failure);
  return { ids };
};
