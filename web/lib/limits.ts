import type { limits as contractLimits } from '@chat/functions/contracts';

/**
 * The protocol limits the web client uses, as plain numbers. They are the contract's (`limits` of
 * `@chat/functions/contracts`), written out here because importing any value from the contracts module pulls
 * its zod schemas (about 35 KB gzip) into the first load of every page; the schemas load lazily instead
 * (`lib/api/schemas.ts`). `satisfies` makes a differing literal a type error and `limits.test.ts` compares
 * every value with the contract's.
 */
export const limits = {
  messageBodyMaxChars: 4_000,
  wsFrameMaxBytes: 32 * 1024,
  historyPageMax: 100,
  groupTitleMaxChars: 100,
  heartbeatIntervalMs: 60_000,
  usernameMin: 3,
  usernameMax: 32,
  passwordMin: 8,
  passwordMax: 128,
  displayNameMax: 64,
} as const satisfies Partial<typeof contractLimits>;
