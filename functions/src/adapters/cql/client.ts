import cassandra from 'cassandra-driver';
import { config } from '#platform/config.ts';
import { readCredentials } from '../secrets.ts';

const { Client, types } = cassandra;

/** Writes at LOCAL_QUORUM (the only write level Keyspaces accepts); reads at LOCAL_ONE. */
export const consistency = {
  write: types.consistencies.localQuorum,
  read: types.consistencies.localOne,
  /** LWT serial consistency. Keyspaces ignores it but requires a valid value. */
  serial: types.consistencies.localSerial,
} as const;

let client: cassandra.Client | undefined;

type AuthProviderFactory = () => cassandra.auth.AuthProvider;
let sigv4Factory: AuthProviderFactory | undefined;

/** The Keyspaces SigV4 authenticator registers itself here (adapters/cql/keyspaces-auth.ts). */
export function registerSigV4AuthProvider(factory: AuthProviderFactory): void {
  sigv4Factory = factory;
}

function authProvider(): cassandra.auth.AuthProvider | undefined {
  switch (config.cqlAuth()) {
    case 'none':
      return undefined;
    case 'password':
      return new SecretPlainTextAuthProvider();
    case 'sigv4':
      if (!sigv4Factory) throw new Error('CQL_AUTH=sigv4 but no SigV4 auth provider is registered');
      return sigv4Factory();
  }
}

/**
 * Username/password auth (ScyllaDB, Cassandra) with the credentials read when the driver authenticates:
 * from the Secrets Manager secret CQL_SECRET_ARN on AWS, else CQL_USERNAME / CQL_PASSWORD.
 */
export class SecretPlainTextAuthProvider implements cassandra.auth.AuthProvider {
  newAuthenticator(): cassandra.auth.Authenticator {
    return new SecretPlainTextAuthenticator();
  }
}

class SecretPlainTextAuthenticator implements cassandra.auth.Authenticator {
  initialResponse(callback: (error: Error | null, token?: Buffer) => void): void {
    const arn = config.cqlSecretArn();
    const creds = arn
      ? readCredentials(arn, 'CQL')
      : Promise.resolve({
          username: config.cqlUsername(),
          password: config.cqlPassword(),
        });
    creds.then(
      ({ username, password }) =>
        callback(
          null,
          Buffer.concat([Buffer.from([0]), Buffer.from(username), Buffer.from([0]), Buffer.from(password)]),
        ),
      (error: Error) => callback(error),
    );
  }

  evaluateChallenge(_challenge: Buffer, callback: (error: Error | null, token?: Buffer) => void): void {
    callback(null);
  }

  onAuthenticationSuccess(): void {}
}

/**
 * One CQL session per execution environment, created on first use, bound to the chat keyspace.
 * Prepared statements everywhere (`prepare: true`), so the driver routes by token.
 */
export function cql(): cassandra.Client {
  if (!client) {
    const provider = authProvider();
    client = new Client({
      contactPoints: config.cqlContactPoints(),
      protocolOptions: { port: config.cqlPort() },
      localDataCenter: config.cqlLocalDc(),
      keyspace: config.cqlKeyspace(),
      ...(provider ? { authProvider: provider } : {}),
      // TLS (Keyspaces, managed ScyllaDB): verify the certificate against the contact point's host name.
      ...(config.cqlTls()
        ? {
            sslOptions: {
              rejectUnauthorized: true,
              host: config.cqlContactPoints()[0],
              servername: config.cqlContactPoints()[0],
            },
          }
        : {}),
      queryOptions: { consistency: consistency.read, prepare: true },
      socketOptions: { connectTimeout: 5_000, readTimeout: 12_000 },
      pooling: { heartBeatInterval: 30_000 },
    });
  }
  return client;
}

/** Run a write at LOCAL_QUORUM. */
export const write = (query: string, params: unknown[]) =>
  cql().execute(query, params, { prepare: true, consistency: consistency.write });

/** A write statement with its bound values. */
export interface Statement {
  readonly query: string;
  readonly params: unknown[];
  /**
   * The partition it writes (table and key, any string that is equal for equal partitions): statements of one
   * partition count once against `UNLOGGED_BATCH_MAX_PARTITIONS`. Without it a statement counts as its own.
   */
  readonly partition?: string;
}

/** Amazon Keyspaces' limit on statements per unlogged batch (KEYSPACES_MAX_UNLOGGED_BATCH in keyspaces-check.ts). */
export const UNLOGGED_BATCH_MAX_STATEMENTS = 30;
/**
 * Bytes per batch: Cassandra logs a warning for a batch of more than one partition above
 * `batch_size_warn_threshold` (5 KiB by default, measured on its mutations: the values plus each cell's and
 * row's own overhead) and refuses one above `batch_size_fail_threshold` (50 KiB; ScyllaDB warns at 128 KiB).
 * Batches stay under the warning with room to spare: at most `UNLOGGED_BATCH_MAX_BYTES` by `statementBytes`, which
 * overstates the server's measure (cql-batches.test.ts checks the shapes persist writes against the real server's
 * warnings). A statement bigger than this goes alone, as a plain statement.
 */
export const UNLOGGED_BATCH_MAX_BYTES = 4_608;
/**
 * Partitions per unlogged batch: Cassandra also warns for an unlogged batch of more than
 * `unlogged_batch_across_partitions_warn_threshold` (10) partitions.
 */
export const UNLOGGED_BATCH_MAX_PARTITIONS = 10;
/**
 * What a row adds beyond its values (its clustering, liveness and deletion info): an upper bound. With the
 * partition keys counted as values (the server does not count them), `statementBytes` measured 1.15–1.2× the
 * server's size for persist's rows.
 */
const STATEMENT_OVERHEAD_BYTES = 24;
/** What a cell adds beyond its value (its timestamp; a null is a tombstone of the same size): an upper bound. */
const VALUE_OVERHEAD_BYTES = 8;

/** Bytes a bound value adds to a mutation (an estimate: strings as UTF-8, collections by element, the rest 16). */
const valueBytes = (v: unknown): number =>
  typeof v === 'string'
    ? Buffer.byteLength(v)
    : Buffer.isBuffer(v)
      ? v.length
      : Array.isArray(v)
        ? v.reduce<number>((n, e) => n + valueBytes(e) + VALUE_OVERHEAD_BYTES, 0)
        : v == null
          ? 0
          : 16;

/** A statement's share of a batch's size (`batchGroups`' measure). */
export const statementBytes = (s: Statement): number =>
  s.params.reduce<number>((n, v) => n + valueBytes(v) + VALUE_OVERHEAD_BYTES, STATEMENT_OVERHEAD_BYTES);

/**
 * Groups statements into as few requests as the limits allow, in order: at most
 * `UNLOGGED_BATCH_MAX_STATEMENTS` statements, `UNLOGGED_BATCH_MAX_PARTITIONS` partitions and
 * `UNLOGGED_BATCH_MAX_BYTES` (`statementBytes`) per group (pure).
 */
export function batchGroups<T extends Statement>(statements: readonly T[]): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  const partitions = new Set<string>();
  let unnamed = 0;
  for (const s of statements) {
    const size = statementBytes(s);
    const partition = s.partition ?? `\u0000${unnamed++}`;
    if (
      group.length > 0 &&
      (group.length >= UNLOGGED_BATCH_MAX_STATEMENTS ||
        bytes + size > UNLOGGED_BATCH_MAX_BYTES ||
        (!partitions.has(partition) && partitions.size >= UNLOGGED_BATCH_MAX_PARTITIONS))
    ) {
      groups.push(group);
      group = [];
      bytes = 0;
      partitions.clear();
    }
    group.push(s);
    bytes += size;
    partitions.add(partition);
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * Writes statements at LOCAL_QUORUM in as few requests as possible: unlogged batches (one request, no batch
 * log, no atomicity: each statement applies on its own, exactly as the same statements sent one by one) within
 * `batchGroups`' limits, the groups in parallel; a group of one is a plain statement. For independent,
 * idempotent writes only (order between them is not kept). Returns the server's warnings (none expected).
 */
export async function writeAll(statements: readonly Statement[]): Promise<string[]> {
  const results = await Promise.all(
    batchGroups(statements).map((g) =>
      g.length === 1 && g[0]
        ? write(g[0].query, g[0].params)
        : cql().batch(g as Statement[] as { query: string; params: unknown[] }[], {
            prepare: true,
            logged: false,
            consistency: consistency.write,
          }),
    ),
  );
  return results.flatMap((rs) => rs.info.warnings ?? []);
}

/** Run a read at LOCAL_ONE. */
export const read = (query: string, params: unknown[], opts: cassandra.QueryOptions = {}) =>
  cql().execute(query, params, { prepare: true, consistency: consistency.read, ...opts });

/** Run a lightweight transaction (IF …); returns whether it was applied and the current row. */
export async function lwt(
  query: string,
  params: unknown[],
): Promise<{ applied: boolean; row: cassandra.types.Row }> {
  const rs = await cql().execute(query, params, {
    prepare: true,
    consistency: consistency.write,
    serialConsistency: consistency.serial,
  });
  const row = rs.first();
  return { applied: rs.wasApplied(), row };
}

export async function closeCql(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) await c.shutdown();
}

export { types as cqlTypes };
