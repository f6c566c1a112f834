/**
 * Identifiers and timestamps in the formats AWS uses, so handlers see values shaped like production ones.
 */
import { createHash, randomBytes, randomFillSync, randomUUID } from 'node:crypto';

/**
 * Random bytes from a pool refilled 4 KB at a time: ids are made several times per frame and per push, and one
 * `randomBytes` call per id showed up at ~8 % of the emulator's CPU under load. Same CSPRNG.
 */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
const random = (n: number): Buffer => {
  if (poolAt + n > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += n;
  return pool.subarray(poolAt - n, poolAt);
};

/**
 * API Gateway style id: 11 random bytes in standard base64, so 16 characters ending in `=`, e.g.
 * `L0SM9cOFvHcCIhw=`. Used for connection ids, request ids, message ids. Standard base64 may contain `+` and
 * `/`: callers must URL-encode ids in paths (the SDK does), exactly as on AWS.
 */
export const apiGatewayId = (): string => random(11).toString('base64');

/** Lambda request id (a UUID v4). */
export const lambdaRequestId = (): string => randomUUID();

/** An API id like `a1b2c3d4e5` (10 lower-case alphanumerics). */
export const apiId = (): string => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(10);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Common Log Format time in UTC, as API Gateway writes `requestTime`: `20/Jan/2024:11:55:00 +0000`. */
export const clfTime = (epochMs: number): string => {
  const d = new Date(epochMs);
  return `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad2(d.getUTCHours())}:${pad2(
    d.getUTCMinutes(),
  )}:${pad2(d.getUTCSeconds())} +0000`;
};

/** X-Ray trace header value: `Root=1-<8 hex epoch seconds>-<24 hex>`. */
export const traceId = (epochMs: number): string =>
  `Root=1-${Math.floor(epochMs / 1000).toString(16)}-${random(12).toString('hex')}`;

/** Lambda log stream name: `2024/01/20/[$LATEST]<32 hex>`. */
export const logStreamName = (epochMs: number): string => {
  const d = new Date(epochMs);
  return `${d.getUTCFullYear()}/${pad2(d.getUTCMonth() + 1)}/${pad2(d.getUTCDate())}/[$LATEST]${randomBytes(16).toString('hex')}`;
};

/** A stable UUID-shaped id derived from a string (for ESM mapping UUIDs that survive restarts). */
export const stableUuid = (seed: string): string => {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};
