/**
 * Amazon Keyspaces compatibility check for CQL statements (docs/local-runtime.md, "What AWS does that a laptop would hide").
 *
 * Keyspaces speaks CQL but rejects part of it. This check runs over every rendered migration statement in a
 * test, so a schema change that would break `cdk deploy` against Keyspaces fails locally first. It is a lexical
 * check (no full CQL parser): it looks at the statement's leading keywords and a few clauses, which is enough for
 * the DDL and DML this project writes.
 */

export type KeyspacesRule =
  | 'secondary-index'
  | 'materialized-view'
  | 'udf'
  | 'uda'
  | 'trigger'
  | 'truncate'
  | 'alter-type'
  | 'alter-table-drop'
  | 'alter-table-rename'
  | 'ttl-not-enabled'
  | 'client-timestamps-not-enabled'
  | 'roles-and-permissions'
  | 'batch-too-large'
  | 'counter-batch';

export interface KeyspacesViolation {
  readonly rule: KeyspacesRule;
  readonly message: string;
  readonly statement: string;
}

export interface KeyspacesCheckOptions {
  /**
   * Tables (`ks.table` or `table`) that already have TTL enabled on Keyspaces
   * (`CUSTOM_PROPERTIES = {'ttl': {'status': 'enabled'}}`). A CREATE/ALTER TABLE in the checked list that enables
   * it is picked up automatically for the statements after it.
   */
  readonly ttlEnabledTables?: Iterable<string>;
  /** Tables with client-side timestamps enabled (`'client_side_timestamps': {'status': 'enabled'}`). */
  readonly clientTimestampTables?: Iterable<string>;
}

/** Keyspaces limits on batches (logged ≤ 100 statements, unlogged ≤ 30). */
export const KEYSPACES_MAX_LOGGED_BATCH = 100;
export const KEYSPACES_MAX_UNLOGGED_BATCH = 30;

/** Remove comments and string literals' content, collapse whitespace: keywords inside strings never match. */
function normalize(statement: string): string {
  return statement
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/(--|\/\/)[^\n]*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function withoutStrings(s: string): string {
  return s.replace(/'(?:[^']|'')*'/g, "''");
}

const IDENT = `(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)`;
const QUALIFIED = String.raw`(${IDENT}(?:\.${IDENT})?)`;

function tableKey(name: string): string {
  const unquoted = name.replace(/"/g, '').toLowerCase();
  const dot = unquoted.lastIndexOf('.');
  return dot >= 0 ? unquoted.slice(dot + 1) : unquoted;
}

/** Does this CREATE/ALTER TABLE enable a custom property such as 'ttl' or 'client_side_timestamps'? */
function enablesCustomProperty(normalized: string, property: string): boolean {
  const re = new RegExp(
    String.raw`CUSTOM_PROPERTIES\s*=\s*\{[^;]*'${property}'\s*:\s*\{\s*'status'\s*:\s*'enabled'\s*\}`,
    'i',
  );
  return re.test(normalized);
}

/**
 * Returns every Keyspaces incompatibility found in `statements` (empty when all of them are accepted).
 * Statements are checked in order, so a table created with TTL enabled may be written with `USING TTL` later.
 */
export function checkKeyspacesCompatibility(
  statements: readonly string[],
  options: KeyspacesCheckOptions = {},
): KeyspacesViolation[] {
  const ttlTables = new Set([...(options.ttlEnabledTables ?? [])].map(tableKey));
  const tsTables = new Set([...(options.clientTimestampTables ?? [])].map(tableKey));
  const violations: KeyspacesViolation[] = [];

  for (const statement of statements) {
    const norm = normalize(statement);
    const code = withoutStrings(norm);
    const upper = code.toUpperCase();
    const add = (rule: KeyspacesRule, message: string) => violations.push({ rule, message, statement });

    if (/^CREATE (CUSTOM )?INDEX\b/.test(upper)) add('secondary-index', 'Keyspaces has no secondary indexes');
    if (/^(CREATE|ALTER|DROP) MATERIALIZED VIEW\b/.test(upper))
      add('materialized-view', 'Keyspaces has no materialized views');
    if (/^CREATE (OR REPLACE )?FUNCTION\b/.test(upper)) add('udf', 'Keyspaces has no user-defined functions');
    if (/^CREATE (OR REPLACE )?AGGREGATE\b/.test(upper))
      add('uda', 'Keyspaces has no user-defined aggregates');
    if (/^(CREATE|DROP) TRIGGER\b/.test(upper)) add('trigger', 'Keyspaces has no triggers');
    if (/^TRUNCATE\b/.test(upper)) add('truncate', 'Keyspaces does not support TRUNCATE');
    if (/^ALTER TYPE\b/.test(upper))
      add('alter-type', 'Keyspaces supports CREATE/DROP TYPE but not ALTER TYPE: create a new type instead');
    if (/^(CREATE|ALTER|DROP) (ROLE|USER)\b|^(GRANT|REVOKE|LIST) /.test(upper))
      add('roles-and-permissions', 'Keyspaces uses IAM, not CQL roles and permissions');

    const alter = new RegExp(String.raw`^ALTER TABLE ${QUALIFIED} (DROP|RENAME)\b`, 'i').exec(code);
    if (alter) {
      if (alter[2]?.toUpperCase() === 'DROP')
        add('alter-table-drop', 'Keyspaces cannot drop columns: stop writing the column instead');
      else add('alter-table-rename', 'Keyspaces cannot rename columns');
    }

    // Tables whose TTL / client-side timestamps get enabled by this statement.
    const tableDdl = new RegExp(`^(?:CREATE TABLE (?:IF NOT EXISTS )?|ALTER TABLE )${QUALIFIED}`, 'i').exec(
      code,
    );
    if (tableDdl?.[1]) {
      const key = tableKey(tableDdl[1]);
      if (enablesCustomProperty(norm, 'ttl')) ttlTables.add(key);
      if (enablesCustomProperty(norm, 'client_side_timestamps')) tsTables.add(key);
      const defaultTtl = /\bDEFAULT_TIME_TO_LIVE\s*=\s*(\d+)/i.exec(code);
      if (defaultTtl && Number(defaultTtl[1]) > 0 && !ttlTables.has(key))
        add(
          'ttl-not-enabled',
          `default_time_to_live on ${key} needs CUSTOM_PROPERTIES = {'ttl': {'status': 'enabled'}} on Keyspaces`,
        );
    }

    // DML: USING TTL / USING TIMESTAMP need the table's custom property; batches have size limits.
    const dmlParts = /^BEGIN\b/.test(upper)
      ? code
          .split(/;|\bAPPLY BATCH\b/i)
          .map((s) => s.replace(/^\s*BEGIN (UNLOGGED |LOGGED |COUNTER )?BATCH\b/i, ''))
      : [code];
    for (const part of dmlParts) {
      const p = part.trim();
      const target =
        new RegExp(`^INSERT INTO ${QUALIFIED}`, 'i').exec(p) ??
        new RegExp(`^UPDATE ${QUALIFIED}`, 'i').exec(p) ??
        new RegExp(String.raw`^DELETE\b.*?\bFROM ${QUALIFIED}`, 'i').exec(p);
      if (!target?.[1]) continue;
      const key = tableKey(target[1]);
      const pu = p.toUpperCase();
      if (/\b(USING|AND) TTL\b/.test(pu) && !ttlTables.has(key))
        add(
          'ttl-not-enabled',
          `TTL on ${key} needs CUSTOM_PROPERTIES = {'ttl': {'status': 'enabled'}} on Keyspaces`,
        );
      if (/\b(USING|AND) TIMESTAMP\b/.test(pu) && !tsTables.has(key))
        add(
          'client-timestamps-not-enabled',
          `USING TIMESTAMP on ${key} needs CUSTOM_PROPERTIES = {'client_side_timestamps': {'status': 'enabled'}}`,
        );
    }

    const batch = /^BEGIN (UNLOGGED |LOGGED |COUNTER )?BATCH\b/.exec(upper);
    if (batch) {
      const kind = (batch[1] ?? 'LOGGED ').trim();
      if (kind === 'COUNTER') add('counter-batch', 'Keyspaces does not accept counter batches');
      const count = (upper.match(/\b(INSERT INTO|UPDATE|DELETE)\b/g) ?? []).length;
      const max = kind === 'UNLOGGED' ? KEYSPACES_MAX_UNLOGGED_BATCH : KEYSPACES_MAX_LOGGED_BATCH;
      if (count > max)
        add('batch-too-large', `${kind.toLowerCase()} batch of ${count} statements (max ${max})`);
    }
  }
  return violations;
}
