import cassandra from 'cassandra-driver';
import { config } from '#lib/config.ts';

const { Client, types, auth } = cassandra;

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
      return new auth.PlainTextAuthProvider(
        process.env.CQL_USERNAME ?? 'cassandra',
        process.env.CQL_PASSWORD ?? 'cassandra',
      );
    case 'sigv4':
      if (!sigv4Factory) throw new Error('CQL_AUTH=sigv4 but no SigV4 auth provider is registered');
      return sigv4Factory();
  }
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
      ...(config.cqlTls() ? { sslOptions: { rejectUnauthorized: true } } : {}),
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
