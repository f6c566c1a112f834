import { afterEach, describe, expect, it } from 'vitest';
import {
  batchGroups,
  SecretPlainTextAuthProvider,
  statementBytes,
  UNLOGGED_BATCH_MAX_BYTES,
  UNLOGGED_BATCH_MAX_PARTITIONS,
  UNLOGGED_BATCH_MAX_STATEMENTS,
} from './client.ts';
import { checkKeyspacesCompatibility, KEYSPACES_MAX_UNLOGGED_BATCH } from './keyspaces-check.ts';

describe('When CQL_AUTH=password without a secret ARN', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('answers the SASL PLAIN challenge with CQL_USERNAME and CQL_PASSWORD', async () => {
    process.env.CQL_SECRET_ARN = '';
    process.env.CQL_USERNAME = 'scylla';
    process.env.CQL_PASSWORD = 'pässword';
    const authenticator = new SecretPlainTextAuthProvider().newAuthenticator();
    const token = await new Promise<Buffer | undefined>((resolve, reject) =>
      authenticator.initialResponse((error: Error | null, t?: Buffer) =>
        error ? reject(error) : resolve(t),
      ),
    );
    expect(token?.toString('utf8')).toBe('\u0000scylla\u0000pässword');
  });
});

describe('batchGroups (unlogged batches of writes)', () => {
  const insert = (i: number, body = 'x') => ({
    query:
      'INSERT INTO chat.client_messages (conversation_id, sender_id, client_msg_id, message_id) VALUES (?, ?, ?, ?)',
    params: ['c', 's', `m${i}`, body],
  });

  it("keeps within Amazon Keyspaces' 30 statements per unlogged batch, in order", () => {
    expect(UNLOGGED_BATCH_MAX_STATEMENTS).toBe(KEYSPACES_MAX_UNLOGGED_BATCH);
    // one partition (as a conversation's members are), so only the statement limit applies
    const statements = Array.from({ length: 65 }, (_, i) => ({ ...insert(i), partition: 'p' }));
    const groups = batchGroups(statements);
    expect(groups.map((g) => g.length)).toEqual([30, 30, 5]);
    expect(groups.flat()).toEqual(statements);
    // Each group as the CQL text of a batch passes the Keyspaces check (31 statements would not).
    const asBatch = (g: { query: string }[]) =>
      `BEGIN UNLOGGED BATCH ${g.map((s) => `${s.query};`).join(' ')} APPLY BATCH`;
    expect(checkKeyspacesCompatibility(groups.map(asBatch))).toEqual([]);
    expect(checkKeyspacesCompatibility([asBatch(statements.slice(0, 31))]).map((v) => v.rule)).toEqual([
      'batch-too-large',
    ]);
  });

  it("splits by bytes (under Cassandra's batch_size_warn_threshold), a big statement alone", () => {
    const body = 'é'.repeat(900); // 1,800 bytes of UTF-8
    const groups = batchGroups([
      insert(0, body),
      insert(1, body),
      insert(2, body),
      insert(3, 'é'.repeat(3_000)),
    ]);
    expect(groups.map((g) => g.length)).toEqual([2, 1, 1]);
    for (const g of groups.filter((x) => x.length > 1)) {
      const bytes = g.reduce((n, s) => n + statementBytes(s), 0);
      expect(bytes).toBeLessThanOrEqual(UNLOGGED_BATCH_MAX_BYTES);
    }
  });

  it('keeps within 10 partitions per batch (Cassandra warns above), statements of one partition counted once', () => {
    const statements = [
      ...Array.from({ length: 12 }, (_, i) => insert(i)),
      { ...insert(12), partition: 'a' },
      { ...insert(13), partition: 'a' },
      { ...insert(14), partition: 'b' },
    ];
    expect(UNLOGGED_BATCH_MAX_PARTITIONS).toBe(10);
    expect(batchGroups(statements).map((g) => g.length)).toEqual([10, 5]);
  });

  it('makes no group of nothing', () => {
    expect(batchGroups([])).toEqual([]);
  });
});
