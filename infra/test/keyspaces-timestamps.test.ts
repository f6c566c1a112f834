import { clientTimestampTables } from '@chat/functions/schema';
import { beforeAll, describe, expect, it } from 'vitest';
import { resourcesOfType } from './helpers.ts';
import { type Synthesized, synthChatStack } from './synth.ts';

/**
 * The tables the persist function and markRead write `USING TIMESTAMP` (max-registers, docs/adr/0006) must
 * enable client-side timestamps on Amazon Keyspaces, or every such write is refused; the others stay as they
 * were (enabling is a one-way switch).
 */
let s: Synthesized;

beforeAll(() => {
  s = synthChatStack();
});

describe('Keyspaces client-side timestamps', () => {
  it('are enabled exactly on the tables written USING TIMESTAMP', () => {
    const tables = resourcesOfType(s.json, 'AWS::Cassandra::Table').map(([, r]) => r.Properties ?? {});
    expect(tables.length).toBeGreaterThan(0);
    const enabled = tables
      .filter((t) => t.ClientSideTimestampsEnabled === true)
      .map((t) => t.TableName as string)
      .sort();
    expect(enabled).toEqual(['conversations', 'message_reactions', 'messages', 'read_pointers']);
    expect([...clientTimestampTables].sort()).toEqual(enabled);
  });
});
