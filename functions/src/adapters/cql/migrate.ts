/**
 * CQL migrations runner: applies `migrations/` (schema as data, rendered by schema.ts) in id order, records
 * each applied id with a checksum in `<keyspace>.schema_migrations`, and is idempotent (a second run applies
 * nothing). Runs against Apache Cassandra and ScyllaDB locally and against Amazon Keyspaces, where DDL is
 * asynchronous: there it polls `system_schema_mcs.tables` until every touched table is ACTIVE.
 *
 * Locally the runner creates the keyspace (SimpleStrategy, RF 1 unless CQL_REPLICATION says otherwise); on
 * Keyspaces the CDK database construct creates it and the runner only checks that it exists.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import cassandra from 'cassandra-driver';
import { config } from '#platform/config.ts';
import { migrations as allMigrations } from './migrations/index.ts';
import { type Migration, type MigrationStep, renderStep } from './schema.ts';

type Client = cassandra.Client;
const { consistencies } = cassandra.types;

export type CqlTarget = 'cassandra' | 'keyspaces';

export type Replication = Readonly<Record<string, string | number>>;

export interface MigrateOptions {
  /** Default: CQL_KEYSPACE (`chat`). */
  readonly keyspace?: string;
  /**
   * Keyspace replication used when the runner creates the keyspace. Default: the JSON in CQL_REPLICATION, else
   * `{ class: 'SimpleStrategy', replication_factor: 1 }`. E.g. `{ class: 'NetworkTopologyStrategy', dc1: 3 }`.
   */
  readonly replication?: Replication;
  /** `auto` (default) detects Keyspaces by the presence of `system_schema_mcs`. */
  readonly target?: CqlTarget | 'auto';
  /** Create the keyspace if missing. Default: true, except on Keyspaces (CDK owns it there). */
  readonly createKeyspace?: boolean;
  /** Default: every migration in ./migrations. */
  readonly migrations?: readonly Migration[];
  /** Keyspaces only: how long to wait for a table to become ACTIVE. Default 5 minutes. */
  readonly activeTimeoutMs?: number;
  readonly pollIntervalMs?: number;
  /** Progress lines (default: silent). */
  readonly log?: (line: string) => void;
}

export interface MigrateResult {
  readonly keyspace: string;
  readonly target: CqlTarget;
  /** Ids applied by this run, in order. */
  readonly applied: string[];
  /** Ids that were already applied. */
  readonly alreadyApplied: string[];
}

export const MIGRATIONS_TABLE = 'schema_migrations';

const DEFAULT_REPLICATION: Replication = { class: 'SimpleStrategy', replication_factor: 1 };

const ident = (s: string): string => {
  if (!/^[a-z][a-z0-9_]*$/.test(s)) throw new Error(`invalid CQL identifier: ${s}`);
  return s;
};

/** The replication map from CQL_REPLICATION (JSON), or SimpleStrategy RF 1. */
export function replicationFromEnv(): Replication {
  const raw = config.cqlReplication();
  if (!raw) return DEFAULT_REPLICATION;
  const parsed: unknown = JSON.parse(raw);
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof (parsed as { class?: unknown }).class !== 'string'
  )
    throw new Error(`CQL_REPLICATION must be a JSON object with a "class", got: ${raw}`);
  return parsed as Replication;
}

export function renderCreateKeyspace(keyspace: string, replication: Replication): string {
  const entries = Object.entries(replication).map(
    ([k, v]) =>
      `'${k.replace(/'/g, "''")}': ${typeof v === 'number' ? v : `'${String(v).replace(/'/g, "''")}'`}`,
  );
  return `CREATE KEYSPACE IF NOT EXISTS ${ident(keyspace)} WITH replication = {${entries.join(', ')}}`;
}

export function renderMigrationsTable(keyspace: string): string {
  return `CREATE TABLE IF NOT EXISTS ${ident(keyspace)}.${MIGRATIONS_TABLE} (\n  id text,\n  checksum text,\n  description text,\n  applied_at timestamp,\n  PRIMARY KEY ((id))\n)`;
}

/** Every CQL statement of one migration, rendered for `keyspace`. */
export function renderMigration(keyspace: string, migration: Migration): string[] {
  return migration.steps.map((s) => renderStep(keyspace, s));
}

/** Checksum of a migration's content, independent of the keyspace name. */
export function migrationChecksum(migration: Migration): string {
  return createHash('sha256').update(renderMigration('ks', migration).join(';\n')).digest('hex').slice(0, 32);
}

/** Is this session connected to Amazon Keyspaces? (`system_schema_mcs` exists only there.) */
export async function detectTarget(client: Client): Promise<CqlTarget> {
  try {
    await client.execute('SELECT keyspace_name FROM system_schema_mcs.keyspaces LIMIT 1');
    return 'keyspaces';
  } catch {
    return 'cassandra';
  }
}

async function keyspaceExists(client: Client, target: CqlTarget, keyspace: string): Promise<boolean> {
  const table = target === 'keyspaces' ? 'system_schema_mcs.keyspaces' : 'system_schema.keyspaces';
  const rs = await client.execute(`SELECT keyspace_name FROM ${table} WHERE keyspace_name = ?`, [keyspace], {
    prepare: true,
  });
  return rs.rowLength > 0;
}

async function columnExists(
  client: Client,
  target: CqlTarget,
  keyspace: string,
  table: string,
  column: string,
): Promise<boolean> {
  const schema = target === 'keyspaces' ? 'system_schema_mcs' : 'system_schema';
  const rs = await client.execute(
    `SELECT column_name FROM ${schema}.columns WHERE keyspace_name = ? AND table_name = ? AND column_name = ?`,
    [keyspace, table, column],
    { prepare: true },
  );
  return rs.rowLength > 0;
}

/** Keyspaces: wait until `system_schema_mcs.tables` reports the table ACTIVE (DDL is asynchronous there). */
export async function waitForTableActive(
  client: Client,
  keyspace: string,
  table: string,
  { timeoutMs = 300_000, pollIntervalMs = 2_000 }: { timeoutMs?: number; pollIntervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let status = 'unknown';
  while (Date.now() < deadline) {
    const rs = await client.execute(
      'SELECT status FROM system_schema_mcs.tables WHERE keyspace_name = ? AND table_name = ?',
      [keyspace, table],
      { prepare: true },
    );
    status = String(rs.first()?.get('status') ?? 'missing');
    if (status === 'ACTIVE') return;
    await sleep(pollIntervalMs);
  }
  throw new Error(`table ${keyspace}.${table} not ACTIVE after ${timeoutMs} ms (last status: ${status})`);
}

function stepTable(step: MigrationStep): string {
  return step.kind === 'createTable' ? step.table.name : step.table;
}

/** Applied migration ids with their checksums. */
export async function appliedMigrations(client: Client, keyspace: string): Promise<Map<string, string>> {
  const rs = await client.execute(`SELECT id, checksum FROM ${ident(keyspace)}.${MIGRATIONS_TABLE}`, [], {
    consistency: consistencies.localQuorum,
  });
  return new Map(rs.rows.map((r) => [String(r.get('id')), String(r.get('checksum'))]));
}

/**
 * Applies every pending migration. Safe to run concurrently with itself on a single node and safe to re-run
 * after a crash half-way through a migration (each step is idempotent: IF NOT EXISTS, or a column check).
 * Throws if an applied migration's content changed (never edit an applied migration: add a new one).
 */
export async function migrate(client: Client, options: MigrateOptions = {}): Promise<MigrateResult> {
  const keyspace = ident(options.keyspace ?? config.cqlKeyspace());
  const log = options.log ?? (() => {});
  const target = !options.target || options.target === 'auto' ? await detectTarget(client) : options.target;
  const list = [...(options.migrations ?? allMigrations)].sort((a, b) => a.id.localeCompare(b.id));
  const ids = new Set<string>();
  for (const m of list) {
    if (ids.has(m.id)) throw new Error(`duplicate migration id ${m.id}`);
    ids.add(m.id);
  }
  const waitActive = async (table: string) => {
    if (target !== 'keyspaces') return;
    log(`waiting for ${keyspace}.${table} to become ACTIVE`);
    await waitForTableActive(client, keyspace, table, {
      timeoutMs: options.activeTimeoutMs,
      pollIntervalMs: options.pollIntervalMs,
    });
  };

  const createKeyspace = options.createKeyspace ?? target !== 'keyspaces';
  if (!(await keyspaceExists(client, target, keyspace))) {
    if (!createKeyspace)
      throw new Error(
        `keyspace ${keyspace} does not exist (on Keyspaces the CDK database construct creates it)`,
      );
    const replication = options.replication ?? replicationFromEnv();
    log(`creating keyspace ${keyspace} ${JSON.stringify(replication)}`);
    await client.execute(renderCreateKeyspace(keyspace, replication));
  }

  await client.execute(renderMigrationsTable(keyspace));
  await waitActive(MIGRATIONS_TABLE);

  const done = await appliedMigrations(client, keyspace);
  const applied: string[] = [];
  const alreadyApplied: string[] = [];
  for (const m of list) {
    const checksum = migrationChecksum(m);
    const recorded = done.get(m.id);
    if (recorded !== undefined) {
      if (recorded !== checksum)
        throw new Error(
          `migration ${m.id} was applied with checksum ${recorded} but its content now gives ${checksum}: ` +
            'never edit an applied migration, add a new one',
        );
      alreadyApplied.push(m.id);
      continue;
    }
    log(`applying ${m.id}: ${m.description}`);
    for (const step of m.steps) {
      if (
        step.kind === 'addColumn' &&
        (await columnExists(client, target, keyspace, step.table, step.column.name))
      )
        continue;
      await client.execute(renderStep(keyspace, step));
      await waitActive(stepTable(step));
    }
    await client.execute(
      `INSERT INTO ${keyspace}.${MIGRATIONS_TABLE} (id, checksum, description, applied_at) VALUES (?, ?, ?, ?)`,
      [m.id, checksum, m.description, new Date()],
      { prepare: true, consistency: consistencies.localQuorum },
    );
    applied.push(m.id);
  }
  return { keyspace, target, applied, alreadyApplied };
}
