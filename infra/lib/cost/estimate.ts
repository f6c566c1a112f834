import { topics } from '@chat/functions/contracts';
import { functionDefs, schedules } from '@chat/functions/routes';
import { type PriceKey, prices } from './prices.ts';

type Resource = { Type: string; Properties?: Record<string, unknown> };
export type TemplateJson = { Resources: Record<string, Resource> };

/**
 * Usage assumptions of the per-message model (one chat message of about 1 KB). They are guesses until the
 * bench measures them; the script prints them next to the result.
 */
export const assumptions = {
  messageBytes: 1024,
  /** wsSendMessage: validate, authorize (Redis + one CQL read), publish, ack. */
  sendDurationMs: 40,
  /** persistFanout: per invocation, per record, per push. */
  persistBaseMs: 30,
  persistPerRecordMs: 15,
  persistPerPushMs: 4,
  /** Records per persist invocation on average (window 0: 1 when idle, more under load). */
  recordsPerBatch: 5,
  /** Keyspaces per message: message row, client-id dedupe (LWT, billed double), conversation, bucket. */
  writeUnitsPerMessage: 5,
  /** Membership check (send) and member list (persist), LOCAL_ONE. */
  readUnitsPerMessage: 2,
  /** Redis ECPUs per message (rate limit, connection lookups) and per recipient (its connections). */
  ecpuPerMessage: 4,
  ecpuPerRecipient: 2,
  /** One PostToConnection over HTTPS through the NAT (headers and TLS included). */
  pushBytes: 1500,
  /** Bytes per Keyspaces request on the wire. */
  cqlBytesPerRequest: 1200,
  logBytesPerInvocation: 600,
  /** Lambda active tracing samples 1 request/s + 5 %. */
  xraySampleRate: 0.05,
  /** Provisioned Keyspaces capacity runs at the auto-scaling target. */
  provisionedUtilization: 0.7,
  /** The sweeper's run time per tick. */
  sweeperDurationMs: 200,
} as const;

export interface CostLine {
  readonly item: string;
  readonly usd: number;
}

export interface CostEstimate {
  readonly idleMonthly: number;
  readonly idleLines: CostLine[];
  /** Per million messages, by recipients per message. */
  readonly perMillion: Record<number, number>;
  readonly perMillionLines: Record<number, CostLine[]>;
  /** Prices used that are not confirmed from the pricing page. */
  readonly unverified: string[];
  readonly notes: string[];
}

const of = (t: TemplateJson, type: string): Resource[] =>
  Object.values(t.Resources).filter((r) => r.Type === type);
const price = (k: PriceKey): number => prices.items[k].usd;

/** Idle monthly cost and cost per million messages of one synthesized template. */
export function estimateCost(template: TemplateJson, recipients: readonly number[] = [2, 10]): CostEstimate {
  const used = new Set<PriceKey>();
  const P = (k: PriceKey): number => {
    used.add(k);
    return price(k);
  };
  const H = prices.hoursPerMonth;
  const idle: CostLine[] = [];
  const add = (item: string, usd: number) => {
    if (usd > 0) idle.push({ item, usd });
  };
  const notes: string[] = [];

  // Network
  const natGateways = of(template, 'AWS::EC2::NatGateway').length;
  add(`NAT gateway × ${natGateways}`, natGateways * P('natGatewayHour') * H);
  const eips = of(template, 'AWS::EC2::EIP').length;
  const natInstances = of(template, 'AWS::EC2::Instance').filter(
    (r) => r.Properties?.InstanceType === 't4g.nano',
  );
  add(`public IPv4 × ${eips + natInstances.length}`, (eips + natInstances.length) * P('publicIpv4Hour') * H);
  add(
    `NAT instance t4g.nano × ${natInstances.length} (+8 GB gp3)`,
    natInstances.length * (P('t4gNanoHour') * H + 8 * P('gp3GbMonth')),
  );
  const endpointAzs = of(template, 'AWS::EC2::VPCEndpoint')
    .filter((r) => r.Properties?.VpcEndpointType === 'Interface')
    .reduce((n, r) => n + ((r.Properties?.SubnetIds as unknown[] | undefined)?.length ?? 0), 0);
  add(`interface endpoints (${endpointAzs} endpoint-AZs)`, endpointAzs * P('interfaceEndpointAzHour') * H);

  // Streaming
  const msk = of(template, 'AWS::MSK::ServerlessCluster').length;
  const partitions = msk > 0 ? Object.values(topics).reduce((n, t) => n + t.partitions, 0) : 0;
  add(`MSK Serverless cluster × ${msk}`, msk * P('mskServerlessClusterHour') * H);
  add(`MSK Serverless partitions × ${partitions}`, partitions * P('mskServerlessPartitionHour') * H);
  if (msk === 0) notes.push('Kafka is an existing cluster (lean): its bill is not included.');
  const pollers = of(template, 'AWS::Lambda::EventSourceMapping').reduce(
    (n, r) =>
      n + Number((r.Properties?.ProvisionedPollerConfig as { MinimumPollers?: number })?.MinimumPollers ?? 0),
    0,
  );
  add(`provisioned Kafka event pollers × ${pollers}`, pollers * P('kafkaEventPollerUnitHour') * H);

  // Cache: ElastiCache Serverless bills at least 100 MB of data for Valkey.
  const caches = of(template, 'AWS::ElastiCache::ServerlessCache').length;
  add(
    `ElastiCache Serverless Valkey × ${caches} (100 MB minimum)`,
    caches * 0.1 * P('valkeyServerlessGbHour') * H,
  );

  // Database
  const tables = of(template, 'AWS::Cassandra::Table');
  let rcu = 0;
  let wcu = 0;
  let onDemandTables = 0;
  for (const t of tables) {
    const billing = t.Properties?.BillingMode as
      | { Mode: string; ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number } }
      | undefined;
    if (billing?.Mode === 'PROVISIONED' && billing.ProvisionedThroughput) {
      rcu += billing.ProvisionedThroughput.ReadCapacityUnits;
      wcu += billing.ProvisionedThroughput.WriteCapacityUnits;
    } else onDemandTables += 1;
  }
  add(
    `Keyspaces provisioned minimum (${wcu} WCU + ${rcu} RCU over ${tables.length - onDemandTables} tables)`,
    (wcu * P('keyspacesWcuHour') + rcu * P('keyspacesRcuHour')) * H,
  );
  const provisionedKeyspaces = wcu > 0;

  // Secrets, observability, the sweeper
  const secrets = of(template, 'AWS::SecretsManager::Secret').length;
  add(`Secrets Manager secrets × ${secrets}`, secrets * P('secretMonth'));
  const alarms = of(template, 'AWS::CloudWatch::Alarm').length;
  add(`CloudWatch alarms × ${alarms}`, alarms * P('alarmMonth'));
  const dashboards = of(template, 'AWS::CloudWatch::Dashboard').length;
  add(`CloudWatch dashboards × ${dashboards}`, dashboards * P('dashboardMonth'));
  for (const s of schedules) {
    const runs = (30.4 * 24 * 3600) / s.everySeconds;
    const gbSeconds = runs * (functionDefs[s.fn].memoryMb / 1024) * (assumptions.sweeperDurationMs / 1000);
    add(
      `${s.fn} every ${s.everySeconds} s (Lambda, logs)`,
      runs * P('lambdaRequest') +
        gbSeconds * P('lambdaArmGbSecond') +
        (runs * assumptions.logBytesPerInvocation * P('logsIngestGb')) / 1e9,
    );
  }
  notes.push(
    'Idle excludes storage (Keyspaces, Kafka, S3, logs), which grows with history, and the free tier.',
  );

  // Per message
  const perMillion: Record<number, number> = {};
  const perMillionLines: Record<number, CostLine[]> = {};
  const send = functionDefs.wsSendMessage;
  const persist = functionDefs.persistFanout;
  const gb = (bytes: number) => bytes / 1e9;
  for (const r of recipients) {
    const lines: CostLine[] = [];
    const line = (item: string, usdPerMessage: number) => lines.push({ item, usd: usdPerMessage * 1e6 });
    line(`WebSocket messages (1 in, 1 ack, ${r} pushes)`, (2 + r) * P('wsMessage'));
    const persistSeconds =
      (assumptions.persistBaseMs / assumptions.recordsPerBatch +
        assumptions.persistPerRecordMs +
        r * assumptions.persistPerPushMs) /
      1000;
    const invocations = 1 + 1 / assumptions.recordsPerBatch;
    line(
      'Lambda (sendMessage + share of a persist batch)',
      invocations * P('lambdaRequest') +
        ((send.memoryMb / 1024) * (assumptions.sendDurationMs / 1000) +
          (persist.memoryMb / 1024) * persistSeconds) *
          P('lambdaArmGbSecond'),
    );
    if (msk > 0) {
      line(
        'MSK Serverless data in + out',
        gb(assumptions.messageBytes) * (P('mskServerlessGbIn') + P('mskServerlessGbOut')),
      );
    }
    line(
      provisionedKeyspaces ? 'Keyspaces (provisioned capacity at target)' : 'Keyspaces (on-demand)',
      provisionedKeyspaces
        ? (assumptions.writeUnitsPerMessage * P('keyspacesWcuHour') +
            assumptions.readUnitsPerMessage * P('keyspacesRcuHour')) /
            3600 /
            assumptions.provisionedUtilization
        : assumptions.writeUnitsPerMessage * P('keyspacesWru') +
            assumptions.readUnitsPerMessage * P('keyspacesRru'),
    );
    line(
      'ElastiCache ECPUs',
      (assumptions.ecpuPerMessage + r * assumptions.ecpuPerRecipient) * P('valkeyServerlessEcpu'),
    );
    const cqlBytes =
      (assumptions.writeUnitsPerMessage + assumptions.readUnitsPerMessage) * assumptions.cqlBytesPerRequest;
    if (natGateways > 0)
      line('NAT gateway processing (pushes)', gb(r * assumptions.pushBytes) * P('natGatewayGb'));
    if (endpointAzs > 0)
      line('interface endpoint processing (Keyspaces)', gb(cqlBytes) * P('interfaceEndpointGb'));
    else if (natGateways > 0) line('NAT gateway processing (Keyspaces)', gb(cqlBytes) * P('natGatewayGb'));
    line(
      'X-Ray traces, CloudWatch Logs',
      invocations * assumptions.xraySampleRate * P('xrayTrace') +
        gb(invocations * assumptions.logBytesPerInvocation) * P('logsIngestGb'),
    );
    perMillionLines[r] = lines;
    perMillion[r] = lines.reduce((n, l) => n + l.usd, 0);
  }

  return {
    idleMonthly: idle.reduce((n, l) => n + l.usd, 0),
    idleLines: idle,
    perMillion,
    perMillionLines,
    unverified: [...used].filter((k) => !prices.items[k].verified).map((k) => prices.items[k].unit),
    notes,
  };
}
