import { fileURLToPath } from 'node:url';

/** The repository root, with a trailing separator (this file is kit/src/paths.ts). */
export const repoRoot: string = fileURLToPath(new URL('../../', import.meta.url));
