import type { Migration } from '../schema.ts';
import { migration as m0001 } from './0001-initial.ts';
import { migration as m0003 } from './0003-persist-offsets.ts';
import { migration as m0004 } from './0004-message-changes.ts';
import { migration as m0005 } from './0005-attachments.ts';
import { migration as m0006 } from './0006-notifications.ts';

/** Every migration, in order. Add new files here; never edit an applied one. */
export const migrations: readonly Migration[] = [m0001, m0003, m0004, m0005, m0006];
