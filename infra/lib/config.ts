import path from 'node:path';
import { DEFAULT_PUSH_HOSTS } from '@chat/functions/contracts';
import { repoRoot } from '@chat/kit/paths';
import type { Node } from 'constructs';

/**
 * Deployment profiles and everything the stack reads from CDK context (`-c key=value` or cdk.json "context").
 * One place, validated once, so a wrong combination fails `cdk synth` with one clear message instead of a
 * half-built template.
 */
export type ProfileName = 'default' | 'lean';

export type StreamingConfig =
  | { readonly kind: 'msk-serverless' }
  | {
      readonly kind: 'self-managed';
      /** `host:port` list of an existing Kafka/Redpanda cluster reachable from the internet (TLS + SASL/SCRAM). */
      readonly bootstrapServers: readonly string[];
      /** Secrets Manager ARN of `{ "username": "...", "password": "..." }`. */
      readonly scramSecretArn: string;
      readonly mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
    };

export type DatabaseConfig =
  | {
      readonly kind: 'keyspaces';
      /**
       * `-c keyspace=…`; none ⇒ named after the stack (`keyspaceNameFor`), so that two stacks in one account
       * and Region (`-c stackName=…`) never share, or fight over, one retained keyspace.
       */
      readonly keyspace?: string;
      /** `provisioned` = provisioned capacity with auto scaling; `on-demand` = pay per request. */
      readonly capacity: 'provisioned' | 'on-demand';
    }
  | {
      readonly kind: 'cql';
      readonly keyspace: string;
      readonly contactPoints: readonly string[];
      readonly port: number;
      readonly localDc: string;
      readonly tls: boolean;
      /** Secrets Manager ARN of `{ "username": "...", "password": "..." }`, when the cluster has auth on. */
      readonly secretArn?: string;
    };

export interface NetworkConfig {
  readonly maxAzs: number;
  /** `gateway` = managed NAT gateway(s); `instance` = one t4g.nano NAT instance (no NAT gateway). */
  readonly nat: 'gateway' | 'instance';
  readonly natGateways: number;
  /** Interface endpoints for Secrets Manager, Keyspaces and SQS, so that traffic stays off the NAT. */
  readonly interfaceEndpoints: boolean;
}

export interface KafkaConsumerConfig {
  /** Provisioned event pollers: needed for bounded retries and bisection (and sub-100 ms ESM latency). */
  readonly provisionedPollers?: { readonly min: number; readonly max: number };
  /**
   * Bounded retries (with batch bisection) before a batch goes to the dead-letter queue; provisioned mode only.
   * Unset (the default): retried until it succeeds or the records expire, as the local runtime does, so a
   * backing-service outage longer than the retry budget cannot move acked messages to the queue.
   */
  readonly retryAttempts?: number;
}

export interface ChatConfig {
  readonly profile: ProfileName;
  readonly streaming: StreamingConfig;
  readonly database: DatabaseConfig;
  readonly network: NetworkConfig;
  readonly kafkaConsumer: KafkaConsumerConfig;
  /** WebSocket stage name; the management endpoint is `.../{stage}`. */
  readonly wsStageName: string;
  /**
   * Create the account-level API Gateway CloudWatch Logs role (`AWS::ApiGateway::Account`). `false` where an
   * organization manages it; access logging is then off unless `accessLogging` is set.
   */
  readonly apiGatewayAccountRole: boolean;
  /** WebSocket stage access logs (need that account role, made here or elsewhere). */
  readonly accessLogging: boolean;
  /** Absolute path of the web static export (`npm run build -w web` writes it). */
  readonly webOutDir: string;
  /** Extra allowed CORS origins besides the CloudFront site (e.g. `http://localhost:3000` for a dev web). */
  readonly extraCorsOrigins: readonly string[];
  /** E-mail for alarm notifications; none ⇒ alarms still exist and show on the dashboard. */
  readonly alarmEmail?: string;
  /** HTTP API stage throttle. */
  readonly httpThrottle: { readonly rateLimit: number; readonly burstLimit: number };
  /** WebSocket stage throttle (messages per second over all connections). */
  readonly wsThrottle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  /** Days between automatic JWT signing key rotations. */
  readonly jwtRotationDays: number;
  /**
   * (issue 15) Web Push: the hosts subscription endpoints may point at (https only; `*.suffix` wildcards;
   * context `pushEndpointHosts`, comma-separated) and the VAPID contact (`vapidSubject`, mailto: or https:).
   * Loopback endpoints are never allowed on AWS.
   */
  readonly webPush: { readonly endpointHosts: readonly string[]; readonly subject: string };
  /**
   * TEST ONLY. `stub` lets a stack synthesize while some handler entry files do not exist yet: a missing entry
   * is bundled from a stub that throws. The real app never sets it (bin/app.ts rejects it).
   */
  readonly missingEntries: 'fail' | 'stub';
}

export { repoRoot };

/**
 * The SASL/SCRAM mechanism of an existing Kafka when nothing says otherwise: the event source's default here
 * and the producers' default (functions/src/adapters/kafka/producer.ts, for a secret without `mechanism`).
 * Another mechanism is set in both places: `-c kafkaScramMechanism=…` and `"mechanism"` in the secret.
 */
export const DEFAULT_SCRAM_MECHANISM = 'SCRAM-SHA-256';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Ctx = (key: string) => unknown;

const str = (ctx: Ctx, key: string): string | undefined => {
  const v = ctx(key);
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new ConfigError(`context "${key}" must be a string, got ${JSON.stringify(v)}`);
};
const list = (ctx: Ctx, key: string): string[] | undefined => {
  const v = ctx(key);
  if (Array.isArray(v)) return v.map(String).filter(Boolean);
  const s = str(ctx, key);
  return s === undefined
    ? undefined
    : s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
};
const int = (ctx: Ctx, key: string, fallback: number, min: number, max: number): number => {
  const s = str(ctx, key);
  if (s === undefined) return fallback;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `context "${key}" must be an integer in [${min}, ${max}], got ${JSON.stringify(s)}`,
    );
  }
  return n;
};
const bool = (ctx: Ctx, key: string, fallback: boolean): boolean => {
  const s = str(ctx, key);
  if (s === undefined) return fallback;
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw new ConfigError(`context "${key}" must be true or false, got ${JSON.stringify(s)}`);
};

/**
 * Reads the profile and its overrides from context. Profiles:
 * - `default`: MSK Serverless (IAM), Keyspaces provisioned + auto scaling, one NAT gateway, interface
 *   endpoints, provisioned Kafka pollers with bounded retries.
 * - `lean`: an existing Kafka/Redpanda (SASL/SCRAM), Keyspaces on-demand, no NAT gateway (a NAT instance),
 *   no interface endpoints, on-demand Kafka pollers.
 * Any problem is collected and thrown as one ConfigError listing every issue.
 */
export function resolveConfig(node: Pick<Node, 'tryGetContext'>): ChatConfig {
  const ctx: Ctx = (k) => node.tryGetContext(k);
  const problems: string[] = [];
  const profile = (str(ctx, 'profile') ?? 'default') as ProfileName;
  if (profile !== 'default' && profile !== 'lean') {
    throw new ConfigError(`context "profile" must be "default" or "lean", got "${profile}"`);
  }
  const lean = profile === 'lean';

  // Streaming
  const bootstrap = list(ctx, 'kafkaBootstrapServers');
  const scramSecretArn = str(ctx, 'kafkaScramSecretArn');
  const mechanism = (str(ctx, 'kafkaScramMechanism') ?? DEFAULT_SCRAM_MECHANISM) as
    | 'SCRAM-SHA-256'
    | 'SCRAM-SHA-512';
  if (mechanism !== 'SCRAM-SHA-256' && mechanism !== 'SCRAM-SHA-512') {
    problems.push(`"kafkaScramMechanism" must be SCRAM-SHA-256 or SCRAM-SHA-512, got "${mechanism}"`);
  }
  let streaming: StreamingConfig;
  if (bootstrap || scramSecretArn || lean) {
    if (!bootstrap?.length)
      problems.push('an existing Kafka needs -c kafkaBootstrapServers=host:port[,host:port]');
    if (!scramSecretArn)
      problems.push('an existing Kafka needs -c kafkaScramSecretArn=<Secrets Manager ARN>');
    else if (!/^arn:aws[a-z-]*:secretsmanager:/.test(scramSecretArn)) {
      problems.push(`"kafkaScramSecretArn" is not a Secrets Manager ARN: ${scramSecretArn}`);
    }
    for (const b of bootstrap ?? []) {
      if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(b)) problems.push(`bootstrap server "${b}" is not host:port`);
    }
    streaming = {
      kind: 'self-managed',
      bootstrapServers: bootstrap ?? [],
      scramSecretArn: scramSecretArn ?? '',
      mechanism,
    };
  } else {
    streaming = { kind: 'msk-serverless' };
  }

  // Database
  const keyspaceGiven = str(ctx, 'keyspace');
  const keyspace = keyspaceGiven ?? 'chat';
  if (!/^[a-z][a-z0-9_]{0,47}$/.test(keyspace))
    problems.push(`"keyspace" is not a valid keyspace name: ${keyspace}`);
  const contactPoints = list(ctx, 'cqlContactPoints');
  let database: DatabaseConfig;
  if (contactPoints?.length) {
    const secretArn = str(ctx, 'cqlSecretArn');
    database = {
      kind: 'cql',
      keyspace,
      contactPoints,
      port: int(ctx, 'cqlPort', 9042, 1, 65535),
      localDc: str(ctx, 'cqlLocalDc') ?? 'datacenter1',
      tls: bool(ctx, 'cqlTls', false),
      ...(secretArn ? { secretArn } : {}),
    };
  } else {
    const capacity = (str(ctx, 'keyspacesCapacity') ?? (lean ? 'on-demand' : 'provisioned')) as
      | 'provisioned'
      | 'on-demand';
    if (capacity !== 'provisioned' && capacity !== 'on-demand') {
      problems.push(`"keyspacesCapacity" must be provisioned or on-demand, got "${capacity}"`);
    }
    database = { kind: 'keyspaces', ...(keyspaceGiven ? { keyspace: keyspaceGiven } : {}), capacity };
  }

  // Network
  const nat = (str(ctx, 'nat') ?? (lean ? 'instance' : 'gateway')) as 'gateway' | 'instance';
  if (nat !== 'gateway' && nat !== 'instance')
    problems.push(`"nat" must be gateway or instance, got "${nat}"`);
  if (lean && nat === 'gateway') problems.push('the lean profile has no NAT gateway: drop -c nat=gateway');
  const network: NetworkConfig = {
    maxAzs: int(ctx, 'maxAzs', 2, 2, 3),
    nat,
    natGateways: nat === 'instance' ? 1 : int(ctx, 'natGateways', 1, 1, 3),
    interfaceEndpoints: bool(ctx, 'interfaceEndpoints', !lean),
  };

  if (streaming.kind === 'msk-serverless' && !network.interfaceEndpoints) {
    problems.push(
      'MSK Serverless needs the interface endpoints (its event source writes failed batches to SQS through the ' +
        'SQS endpoint): drop -c interfaceEndpoints=false or use an existing Kafka',
    );
  }

  // Kafka consumer (event source mapping)
  const provisioned = bool(ctx, 'kafkaProvisionedPollers', !lean);
  const kafkaConsumer: KafkaConsumerConfig = provisioned
    ? {
        provisionedPollers: {
          min: int(ctx, 'kafkaMinPollers', 1, 1, 200),
          max: int(ctx, 'kafkaMaxPollers', 2, 1, 2000),
        },
        ...(str(ctx, 'kafkaRetryAttempts') === undefined
          ? {}
          : { retryAttempts: int(ctx, 'kafkaRetryAttempts', 0, 0, 10_000) }),
      }
    : {};
  if (
    kafkaConsumer.provisionedPollers &&
    kafkaConsumer.provisionedPollers.min > kafkaConsumer.provisionedPollers.max
  ) {
    problems.push('"kafkaMinPollers" must not exceed "kafkaMaxPollers"');
  }

  // Web Push (issue 15)
  const endpointHosts = list(ctx, 'pushEndpointHosts') ?? [...DEFAULT_PUSH_HOSTS];
  for (const h of endpointHosts) {
    if (
      !/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(h) ||
      /^(\*\.)?[0-9.]+$/.test(h) ||
      h.includes('localhost')
    )
      problems.push(`"pushEndpointHosts": "${h}" is not a push service host name (a DNS name, "*." allowed)`);
  }
  const vapidSubject = str(ctx, 'vapidSubject') ?? 'mailto:push@chat.invalid';
  if (!/^(mailto:\S+@\S+|https:\/\/\S+)$/.test(vapidSubject))
    problems.push(`"vapidSubject" must be a mailto: or https: URL, got "${vapidSubject}"`);

  const missingEntries = (str(ctx, 'missingEntries') ?? 'fail') as 'fail' | 'stub';
  if (missingEntries !== 'fail' && missingEntries !== 'stub') {
    problems.push(`"missingEntries" must be fail or stub, got "${missingEntries}"`);
  }

  if (problems.length > 0) {
    throw new ConfigError(`invalid context for profile "${profile}":\n  - ${problems.join('\n  - ')}`);
  }

  const alarmEmail = str(ctx, 'alarmEmail');
  const apiGatewayAccountRole = bool(ctx, 'apiGatewayAccountRole', true);
  return {
    apiGatewayAccountRole,
    accessLogging: bool(ctx, 'accessLogging', apiGatewayAccountRole),
    profile,
    streaming,
    database,
    network,
    kafkaConsumer,
    wsStageName: str(ctx, 'wsStageName') ?? 'prod',
    webOutDir: path.resolve(repoRoot, str(ctx, 'webOut') ?? 'web/out'),
    extraCorsOrigins: list(ctx, 'extraCorsOrigins') ?? [],
    ...(alarmEmail ? { alarmEmail } : {}),
    httpThrottle: {
      rateLimit: int(ctx, 'httpRateLimit', 200, 1, 10_000),
      burstLimit: int(ctx, 'httpBurstLimit', 400, 1, 5_000),
    },
    wsThrottle: {
      rateLimit: int(ctx, 'wsRateLimit', 1_000, 1, 10_000),
      burstLimit: int(ctx, 'wsBurstLimit', 2_000, 1, 5_000),
    },
    jwtIssuer: str(ctx, 'jwtIssuer') ?? 'chat',
    jwtAudience: str(ctx, 'jwtAudience') ?? 'chat-clients',
    jwtRotationDays: int(ctx, 'jwtRotationDays', 30, 1, 365),
    webPush: { endpointHosts, subject: vapidSubject },
    missingEntries,
  };
}

/**
 * The Keyspaces keyspace of a stack without `-c keyspace`: the stack name in lower case, other characters as
 * `_` (`Chat` → `chat`, `Chat-Staging` → `chat_staging`), at most 48 characters, starting with a letter.
 */
export function keyspaceNameFor(stackName: string): string {
  const name = stackName.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return (/^[a-z]/.test(name) ? name : `ks_${name}`).slice(0, 48);
}
