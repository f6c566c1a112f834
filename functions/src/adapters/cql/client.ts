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
}

/** Amazon Keyspaces' limit on statements per unlogged batch (KEYSPACES_MAX_UNLOGGED_BATCH in keyspaces-check.ts). */
export const UNLOGGED_BATCH_MAX_STATEMENTS = 30;
/**
 * Bound bytes per batch: Cassandra refuses a batch above `batch_size_fail_threshold` (50 KiB by default; ScyllaDB
 * 1 MiB) and logs one above `batch_size_warn_threshold` (5 KiB). A third of the failing size leaves room for the
 * mutations' own overhead; a statement bigger than this goes alone.
 */
export const UNLOGGED_BATCH_MAX_BYTES = 16 * 1024;

/** Bytes a bound value adds to a request (an estimate: strings as UTF-8, everything else 8–16). */
const valueBytes = (v: unknown): number =>
  typeof v === 'string' ? Buffer.byteLength(v) : Buffer.isBuffer(v) ? v.length : v == null ? 0 : 16;

/**
 * Groups statements into as few requests as the limits allow, in order: at most
 * `UNLOGGED_BATCH_MAX_STATEMENTS` statements and `UNLOGGED_BATCH_MAX_BYTES` of bound values per group (pure).
 */
export function batchGroups<T extends Statement>(statements: readonly T[]): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  for (const s of statements) {
    const size = s.params.reduce<number>((n, v) => n + valueBytes(v), 0);
    if (
      group.length > 0 &&
      (group.length >= UNLOGGED_BATCH_MAX_STATEMENTS || bytes + size > UNLOGGED_BATCH_MAX_BYTES)
    ) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(s);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * Writes statements at LOCAL_QUORUM in as few requests as possible: unlogged batches (one request, no batch
 * log, no atomicity: each statement applies on its own, exactly as the same statements sent one by one) within
 * `batchGroups`' limits, the groups in parallel; a group of one is a plain statement. For independent,
 * idempotent writes only (order between them is not kept).
 */
export async function writeAll(statements: readonly Statement[]): Promise<void> {
  await Promise.all(
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
