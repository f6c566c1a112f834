/**
 * Public entry `@chat/functions/schema`: the CQL schema as data (the migrations and the tables they end with).
 * The CDK app generates the Amazon Keyspaces tables from it; the migrations runner applies it to Cassandra or
 * ScyllaDB. Pure data: no driver is loaded.
 */
export { migrations } from './adapters/cql/migrations/index.ts';
export {
  type ColumnDef,
  type CqlType,
  clientTimestampTables,
  finalTables,
  type Migration,
  type MigrationStep,
  renderCreateTable,
  type TableDef,
} from './adapters/cql/schema.ts';
