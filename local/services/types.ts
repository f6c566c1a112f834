import path from 'node:path';

export const SERVICE_NAMES = ['redis', 'kafka', 'cassandra', 's3'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** native: a process this manager started; docker: a compose service; external: answering, not ours. */
export type ServiceMode = 'native' | 'docker' | 'external';

/** Where each service listens. Defaults come from the same env vars the Lambda handlers read. */
export interface Addresses {
  readonly redisUrl: string;
  readonly kafkaBrokers: readonly string[];
  /** KRaft controller port of the native broker (default: broker port + 1). */
  readonly kafkaControllerPort: number;
  readonly cqlContactPoints: readonly string[];
  readonly cqlPort: number;
  /** Inter-node port of the native Cassandra node (default 7000). */
  readonly cqlStoragePort: number;
  readonly cqlKeyspace: string;
  readonly cqlLocalDc: string;
  /** The S3 server (S3_ENDPOINT; default http://127.0.0.1:9000). */
  readonly s3Endpoint: string;
  /** Its root credentials (generated into the state folder unless S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY). */
  readonly s3Credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface Health {
  readonly ok: boolean;
  readonly detail: string;
  /** It answers, but not as the project needs it (e.g. Redis not in cluster mode): waiting will not help. */
  readonly misconfigured?: boolean;
}

/** What the manager records about a service it brought up (in <state>/run/<name>.json). */
export interface ServiceState {
  readonly mode: ServiceMode;
  readonly pid?: number;
  readonly version?: string;
  readonly address: string;
  readonly startedAt: string;
}

export interface Reporter {
  /** A service starts a phase (e.g. "resolving Kafka 4.4.0 from Maven Central"); elapsed time is shown. */
  begin(name: string, what: string): void;
  /** A final line for that service. */
  end(name: string, line: string): void;
  /** A plain line. */
  line(text: string): void;
  close(): void;
}

export interface Context {
  readonly stateDir: string;
  readonly cacheDir: string;
  readonly addresses: Addresses;
  readonly report: Reporter;
  /** JVM max heap for Kafka / Cassandra, e.g. "1g". */
  readonly kafkaHeap: string;
  readonly cassandraHeap: string;
}

export const runDir = (ctx: Context) => path.join(ctx.stateDir, 'run');
export const logsDir = (ctx: Context) => path.join(ctx.stateDir, 'logs');
export const dataDir = (ctx: Context, name: string) => path.join(ctx.stateDir, 'data', name);
export const confDir = (ctx: Context, name: string) => path.join(ctx.stateDir, 'conf', name);
export const logFile = (ctx: Context, name: string) => path.join(logsDir(ctx), `${name}.log`);

export interface Driver {
  readonly name: ServiceName;
  /** Service name in localstack-compose.yml ('' = native only: never started with Docker). */
  readonly composeService: string;
  /** A string the native process's command line contains (guards against a reused pid). */
  readonly processMarker: string;
  /** How long a native start may take before we give up (after downloads). */
  readonly startTimeoutMs: number;
  address(a: Addresses): string;
  hostPort(a: Addresses): { host: string; port: number };
  /** A real protocol round trip. */
  probe(a: Addresses): Promise<Health>;
  /** Installs or downloads what a native start needs (not timed by startTimeoutMs). Returns the version. */
  prepare(ctx: Context): Promise<string>;
  /** Starts the native process; returns its pid. */
  start(ctx: Context, version: string): Promise<number>;
  /**
   * Optional: one-time set-up of an instance this manager started (native or docker) once it answers, e.g.
   * assigning the slots of a fresh Redis cluster node. Called before each health probe while waiting; must be
   * idempotent; errors are ignored (the probe reports).
   */
  settle?(a: Addresses): Promise<void>;
}
