import type { Migration } from '../schema.ts';
import { migration as m0001 } from './0001-initial.ts';

/** Every migration, in order. Add new files here; never edit an applied one. */
export const migrations: readonly Migration[] = [m0001];
