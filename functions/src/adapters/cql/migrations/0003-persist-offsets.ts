import type { Migration } from '../schema.ts';

/**
 * Persist without Paxos (docs/adr/0006-persist-without-paxos.md): the conversation's Kafka high-water mark is
 * stored with its `last_seq` (records at or below it were fully applied), and a member-list version lets the
 * persist function cache members in a warm environment.
 */
export const migration: Migration = {
  id: '0003-persist-offsets',
  description: 'conversations: last_offset, last_partition (Kafka high-water mark), members_version',
  steps: [
    { kind: 'addColumn', table: 'conversations', column: { name: 'last_offset', type: 'bigint' } },
    { kind: 'addColumn', table: 'conversations', column: { name: 'last_partition', type: 'int' } },
    { kind: 'addColumn', table: 'conversations', column: { name: 'members_version', type: 'bigint' } },
  ],
};
