/** Migrations runner against the real Cassandra the global setup started, in a throwaway keyspace. */
import { randomUUID } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { config } from '#platform/config.ts';
import {
  appliedMigrations,
  detectTarget,
  migrate,
  migrationChecksum,
  renderCreateKeyspace,
  replicationFromEnv,
} from './migrate.ts';
import { migrations } from './migrations/index.ts';
import type { Migration } from './schema.ts';

const keyspace = `mig_test_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
let client: cassandra.Client;

async function schemaSnapshot(): Promise<string[]> {
  const rs = await client.execute(
    'SELECT table_name, column_name, kind, position, clustering_order, type FROM system_schema.columns WHERE keyspace_name = ?',
    [keyspace],
    { prepare: true },
  );
  return rs.rows
    .map((r) =>
      ['table_name', 'column_name', 'kind', 'position', 'clustering_order', 'type']
        .map((c) => r.get(c))
        .join('|'),
    )
    .sort();
}

beforeAll(async () => {
  client = new cassandra.Client({
    contactPoints: config.cqlContactPoints().map((h) => `${h}:${config.cqlPort()}`),
    localDataCenter: config.cqlLocalDc(),
    socketOptions: { readTimeout: 60_000 },
  });
  await client.connect();
});

afterAll(async () => {
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => {});
  await client.shutdown();
});

describe('CQL migrations runner', () => {
  it('detects Cassandra (not Keyspaces) locally', async () => {
    expect(await detectTarget(client)).toBe('cassandra');
  });

  it('creates the keyspace, applies every migration, records them; a second run changes nothing', async () => {
    const first = await migrate(client, { keyspace });
    expect(first.target).toBe('cassandra');
    expect(first.applied).toEqual(migrations.map((m) => m.id));
    expect(first.alreadyApplied).toEqual([]);

    const ks = await client.execute(
      'SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?',
      [keyspace],
    );
    expect(ks.first()?.get('replication')).toMatchObject({
      class: 'org.apache.cassandra.locator.SimpleStrategy',
    });

    const recorded = await appliedMigrations(client, keyspace);
    expect([...recorded.keys()].sort()).toEqual(migrations.map((m) => m.id).sort());
    for (const m of migrations) expect(recorded.get(m.id)).toBe(migrationChecksum(m));
    const before = await schemaSnapshot();
    expect(before.some((c) => c.startsWith('messages|message_id|clustering'))).toBe(true);

    const second = await migrate(client, { keyspace });
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(migrations.map((m) => m.id));
    expect(await schemaSnapshot()).toEqual(before);
    const rows = await client.execute(`SELECT id, applied_at FROM ${keyspace}.schema_migrations`);
    expect(rows.rowLength).toBe(migrations.length);
  });

  it('applies a new migration in order, skipping a column that already exists', async () => {
    const extra: Migration = {
      id: '9999-test-extra',
      description: 'test: add a column',
      steps: [{ kind: 'addColumn', table: 'users', column: { name: 'test_bio', type: 'text' } }],
    };
    // Simulate a crash after the ALTER but before the record: the column exists, the id is not recorded.
    await client.execute(`ALTER TABLE ${keyspace}.users ADD test_bio text`);
    const r = await migrate(client, { keyspace, migrations: [...migrations, extra] });
    expect(r.applied).toEqual(['9999-test-extra']);
    const again = await migrate(client, { keyspace, migrations: [...migrations, extra] });
    expect(again.applied).toEqual([]);
  });

  it('refuses to run when an applied migration was edited', async () => {
    const [m0] = migrations;
    if (!m0) throw new Error('no migrations');
    const edited: Migration = { ...m0, steps: m0.steps.slice(1) };
    await expect(migrate(client, { keyspace, migrations: [edited] })).rejects.toThrow(
      /never edit an applied migration/,
    );
  });

  it('renders configurable replication', () => {
    expect(renderCreateKeyspace('chat', { class: 'NetworkTopologyStrategy', dc1: 3 })).toBe(
      "CREATE KEYSPACE IF NOT EXISTS chat WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 3}",
    );
    const saved = process.env.CQL_REPLICATION;
    try {
      process.env.CQL_REPLICATION = '{"class":"NetworkTopologyStrategy","datacenter1":1}';
      expect(replicationFromEnv()).toEqual({ class: 'NetworkTopologyStrategy', datacenter1: 1 });
      process.env.CQL_REPLICATION = '[1]';
      expect(() => replicationFromEnv()).toThrow(/CQL_REPLICATION/);
    } finally {
      if (saved === undefined) delete process.env.CQL_REPLICATION;
      else process.env.CQL_REPLICATION = saved;
    }
  });

  it('refuses to create a missing keyspace when told not to (as on Keyspaces, where CDK owns it)', async () => {
    await expect(migrate(client, { keyspace: `${keyspace}_absent`, createKeyspace: false })).rejects.toThrow(
      /keyspace .*_absent does not exist/,
    );
  });
});
