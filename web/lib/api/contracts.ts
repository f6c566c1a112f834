/** The wire contracts as the browser loads them (lazily, `schemas.ts`): zod's JIT off first (`zod-jitless.ts`). */
import './zod-jitless.ts';

export * from '@chat/functions/contracts';
