import { decodeTime, monotonicFactory } from 'ulid';

const next = monotonicFactory();

/** A new time-ordered id (ULID, monotonic within this execution environment). */
export const newId = (now: number = Date.now()): string => next(now);

/** Milliseconds since the epoch encoded in a ULID. */
export const idTime = (id: string): number => decodeTime(id);

/** Messages live in 10-day buckets (Discord's scheme): bounded partitions, few buckets to walk per page. */
export const BUCKET_MS = 10 * 24 * 3600 * 1000;

export const bucketOf = (id: string): number => Math.floor(idTime(id) / BUCKET_MS);

/** A DM's pair key: the two user ids sorted, so (a, b) and (b, a) meet. */
export const dmPairKey = (a: string, b: string): string => (a < b ? `${a}:${b}` : `${b}:${a}`);
