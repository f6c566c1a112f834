import { describe, expect, it } from 'vitest';
import { checkKeyspacesCompatibility, type KeyspacesRule } from './keyspaces-check.ts';
import { renderMigration, renderMigrationsTable } from './migrate.ts';
import { migrations } from './migrations/index.ts';

describe('Keyspaces compatibility check', () => {
  it('accepts every rendered migration statement and the runner table', () => {
    const statements = [
      renderMigrationsTable('chat'),
      ...migrations.flatMap((m) => renderMigration('chat', m)),
    ];
    expect(statements.length).toBeGreaterThan(5);
    expect(checkKeyspacesCompatibility(statements)).toEqual([]);
  });

  const forbidden: [KeyspacesRule, string][] = [
    ['secondary-index', 'CREATE INDEX users_by_name ON chat.users (username)'],
    ['secondary-index', "CREATE CUSTOM INDEX ON chat.users (username) USING 'StorageAttachedIndex'"],
    ['secondary-index', 'create index if not exists i on chat.messages(sender_id)'],
    [
      'materialized-view',
      'CREATE MATERIALIZED VIEW chat.by_name AS SELECT * FROM chat.users WHERE username IS NOT NULL AND user_id IS NOT NULL PRIMARY KEY (username, user_id)',
    ],
    [
      'udf',
      'CREATE OR REPLACE FUNCTION chat.f (x int) RETURNS NULL ON NULL INPUT RETURNS int LANGUAGE java AS $$ return x; $$',
    ],
    ['uda', 'CREATE AGGREGATE chat.a (int) SFUNC f STYPE int'],
    ['trigger', "CREATE TRIGGER t ON chat.users USING 'org.example.Trigger'"],
    ['truncate', 'TRUNCATE chat.messages'],
    ['truncate', 'truncate table chat.messages'],
    ['alter-type', 'ALTER TYPE chat.address ADD zip text'],
    ['alter-table-drop', 'ALTER TABLE chat.users DROP display_name'],
    ['alter-table-rename', 'ALTER TABLE chat.users RENAME user_id TO id'],
    ['ttl-not-enabled', "INSERT INTO chat.users (user_id) VALUES ('u') USING TTL 60"],
    ['ttl-not-enabled', "UPDATE chat.users USING TTL 60 SET display_name = 'x' WHERE user_id = 'u'"],
    ['ttl-not-enabled', 'CREATE TABLE chat.t (k text PRIMARY KEY) WITH default_time_to_live = 3600'],
    ['client-timestamps-not-enabled', "INSERT INTO chat.users (user_id) VALUES ('u') USING TIMESTAMP 1000"],
    ['client-timestamps-not-enabled', "DELETE FROM chat.users USING TIMESTAMP 1000 WHERE user_id = 'u'"],
    ['roles-and-permissions', "CREATE ROLE app WITH PASSWORD = 'x' AND LOGIN = true"],
    ['roles-and-permissions', 'GRANT SELECT ON KEYSPACE chat TO app'],
    ['counter-batch', 'BEGIN COUNTER BATCH UPDATE chat.c SET n = n + 1 WHERE k = 1; APPLY BATCH'],
    [
      'batch-too-large',
      `BEGIN UNLOGGED BATCH ${Array.from({ length: 31 }, (_, i) => `INSERT INTO chat.users (user_id) VALUES ('u${i}');`).join(' ')} APPLY BATCH`,
    ],
  ];

  it.each(forbidden)('rejects %s: %s', (rule, statement) => {
    const violations = checkKeyspacesCompatibility([statement]);
    expect(violations.map((v) => v.rule)).toContain(rule);
    expect(violations.every((v) => v.statement === statement && v.message.length > 0)).toBe(true);
  });

  it('accepts TTL and USING TIMESTAMP once the table enables them', () => {
    const statements = [
      "CREATE TABLE IF NOT EXISTS chat.sessions (id text PRIMARY KEY, v text) WITH CUSTOM_PROPERTIES = {'ttl': {'status': 'enabled'}, 'client_side_timestamps': {'status': 'enabled'}} AND default_time_to_live = 3600",
      "INSERT INTO chat.sessions (id, v) VALUES ('a', 'b') USING TTL 60",
      "UPDATE chat.sessions USING TIMESTAMP 1000 SET v = 'c' WHERE id = 'a'",
      "INSERT INTO chat.users (user_id) VALUES ('u') USING TTL 60",
    ];
    expect(checkKeyspacesCompatibility(statements, { ttlEnabledTables: ['chat.users'] })).toEqual([]);
  });

  it('accepts what Keyspaces supports: LWT, counters, UDTs, static columns, small batches', () => {
    const ok = [
      "INSERT INTO chat.users_by_username (username, user_id) VALUES ('a', 'b') IF NOT EXISTS",
      'CREATE TABLE chat.counts (k text PRIMARY KEY, n counter)',
      'UPDATE chat.counts SET n = n + 1 WHERE k = ?',
      'CREATE TYPE IF NOT EXISTS chat.point (x int, y int)',
      'CREATE TABLE chat.s (k text, c text, s text STATIC, PRIMARY KEY ((k), c))',
      "BEGIN BATCH INSERT INTO chat.users (user_id) VALUES ('a'); INSERT INTO chat.users (user_id) VALUES ('b'); APPLY BATCH",
      "SELECT * FROM chat.users WHERE user_id = 'TRUNCATE'",
      'ALTER TABLE chat.users ADD bio text',
    ];
    expect(checkKeyspacesCompatibility(ok)).toEqual([]);
  });
});
