/**
 * The CQL schema as data. Migrations (ordered files in ./migrations) are lists of these changes; the migration
 * runner renders them to CQL for Cassandra/ScyllaDB/Keyspaces, and the CDK database construct turns the same
 * list into `AWS::Cassandra::Table` resources. There is no second copy of the schema anywhere.
 *
 * Only features that all three engines accept: no secondary indexes, materialized views, UDTs, UDFs, counters
 * or table TTLs (see docs/data-model.md).
 */

export type CqlType = 'text' | 'int' | 'bigint' | 'boolean' | 'timestamp' | 'blob' | 'uuid' | 'timeuuid';

export interface ColumnDef {
  readonly name: string;
  readonly type: CqlType;
}

export interface TableDef {
  readonly name: string;
  readonly comment: string;
  readonly columns: readonly ColumnDef[];
  /** Partition key column names, in order. */
  readonly partitionKey: readonly string[];
  /** Clustering columns, in order. */
  readonly clustering?: readonly { readonly name: string; readonly order: 'ASC' | 'DESC' }[];
}

export type MigrationStep =
  | { readonly kind: 'createTable'; readonly table: TableDef }
  | { readonly kind: 'addColumn'; readonly table: string; readonly column: ColumnDef };

export interface Migration {
  /** Sortable id, e.g. `0001-initial`. Applied in id order; recorded once applied. */
  readonly id: string;
  readonly description: string;
  readonly steps: readonly MigrationStep[];
}

const ident = (s: string): string => {
  if (!/^[a-z][a-z0-9_]*$/.test(s)) throw new Error(`invalid CQL identifier: ${s}`);
  return s;
};

/** CQL for one table (no keyspace-specific options, so it runs on Cassandra, ScyllaDB and Keyspaces). */
export function renderCreateTable(keyspace: string, t: TableDef): string {
  const cols = t.columns.map((c) => `  ${ident(c.name)} ${c.type}`).join(',\n');
  const pk = t.partitionKey.map(ident).join(', ');
  const ck = (t.clustering ?? []).map((c) => ident(c.name));
  const primary = ck.length > 0 ? `((${pk}), ${ck.join(', ')})` : `((${pk}))`;
  const order =
    t.clustering && t.clustering.length > 0
      ? ` WITH CLUSTERING ORDER BY (${t.clustering.map((c) => `${ident(c.name)} ${c.order}`).join(', ')})`
      : '';
  return `CREATE TABLE IF NOT EXISTS ${ident(keyspace)}.${ident(t.name)} (\n${cols},\n  PRIMARY KEY ${primary}\n)${order}`;
}

export function renderStep(keyspace: string, step: MigrationStep): string {
  switch (step.kind) {
    case 'createTable':
      return renderCreateTable(keyspace, step.table);
    case 'addColumn':
      return `ALTER TABLE ${ident(keyspace)}.${ident(step.table)} ADD ${ident(step.column.name)} ${step.column.type}`;
  }
}

/** The final shape of every table after all migrations: what CDK creates on Keyspaces. */
export function finalTables(migrations: readonly Migration[]): TableDef[] {
  const tables = new Map<string, TableDef>();
  for (const m of [...migrations].sort((a, b) => a.id.localeCompare(b.id))) {
    for (const step of m.steps) {
      if (step.kind === 'createTable') tables.set(step.table.name, step.table);
      else {
        const t = tables.get(step.table);
        if (!t) throw new Error(`migration ${m.id}: addColumn to unknown table ${step.table}`);
        tables.set(t.name, { ...t, columns: [...t.columns, step.column] });
      }
    }
  }
  return [...tables.values()];
}

/**
 * Tables written `USING TIMESTAMP` (client-side timestamps: on Amazon Keyspaces the table must enable them, a
 * one-way switch; Cassandra and ScyllaDB always accept them). The persist function writes `conversations`'
 * state, `messages` rows and `read_pointers` as max-registers (docs/adr/0006-persist-without-paxos.md), and the
 * changes to messages (edits, deletes, `message_reactions`) at their change clock (docs/adr/0008-message-changes.md).
 */
export const clientTimestampTables: readonly string[] = [
  'conversations',
  'message_reactions',
  'messages',
  'read_pointers',
];
