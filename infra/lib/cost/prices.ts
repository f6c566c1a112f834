/**
 * The price table the cost script uses: us-east-1, USD, on-demand list prices, no free tier, no Savings Plans.
 * Recorded 2026-11-27 from the AWS pricing pages named in `source`. This machine cannot reach those pages, so
 * the figures are as the team last read them; `verified: false` marks a price we could not confirm at all.
 * Check them against the pages before quoting a number to anyone; update `asOf` when you do.
 */
export interface Price {
  readonly usd: number;
  readonly unit: string;
  readonly source: string;
  /** false: an estimate we could not confirm from the pricing page. */
  readonly verified: boolean;
}

const p = (usd: number, unit: string, source: string, verified = true): Price => ({
  usd,
  unit,
  source,
  verified,
});

const VPC = 'https://aws.amazon.com/vpc/pricing/';
const PRIVATELINK = 'https://aws.amazon.com/privatelink/pricing/';
const LAMBDA = 'https://aws.amazon.com/lambda/pricing/';
const APIGW = 'https://aws.amazon.com/api-gateway/pricing/';
const MSK = 'https://aws.amazon.com/msk/pricing/';
const ELASTICACHE = 'https://aws.amazon.com/elasticache/pricing/';
const KEYSPACES = 'https://aws.amazon.com/keyspaces/pricing/';
const EC2 = 'https://aws.amazon.com/ec2/pricing/on-demand/';
const CLOUDWATCH = 'https://aws.amazon.com/cloudwatch/pricing/';
const XRAY = 'https://aws.amazon.com/xray/pricing/';

export const prices = {
  asOf: '2026-11-27',
  region: 'us-east-1',
  currency: 'USD',
  hoursPerMonth: 730,
  items: {
    natGatewayHour: p(0.045, 'NAT gateway-hour', VPC),
    natGatewayGb: p(0.045, 'GB processed by a NAT gateway', VPC),
    publicIpv4Hour: p(0.005, 'public IPv4 address-hour', VPC),
    interfaceEndpointAzHour: p(0.01, 'interface endpoint-hour per AZ', PRIVATELINK),
    interfaceEndpointGb: p(0.01, 'GB processed by an interface endpoint', PRIVATELINK),
    t4gNanoHour: p(0.0042, 't4g.nano instance-hour', EC2),
    gp3GbMonth: p(0.08, 'gp3 GB-month', 'https://aws.amazon.com/ebs/pricing/'),
    lambdaRequest: p(0.2 / 1e6, 'Lambda request', LAMBDA),
    lambdaArmGbSecond: p(0.0000133334, 'Lambda Arm GB-second', LAMBDA),
    kafkaEventPollerUnitHour: p(0.185, 'provisioned Kafka event poller (EPU)-hour', LAMBDA, false),
    wsMessage: p(1.0 / 1e6, 'WebSocket message (32 KB units), in or out', APIGW),
    wsConnectionMinute: p(0.25 / 1e6, 'WebSocket connection-minute', APIGW),
    httpRequest: p(1.0 / 1e6, 'HTTP API request (512 KB units)', APIGW),
    mskServerlessClusterHour: p(0.75, 'MSK Serverless cluster-hour', MSK),
    mskServerlessPartitionHour: p(0.0015, 'MSK Serverless partition-hour', MSK),
    mskServerlessGbIn: p(0.1, 'MSK Serverless GB in', MSK),
    mskServerlessGbOut: p(0.05, 'MSK Serverless GB out', MSK),
    mskServerlessStorageGbMonth: p(0.1, 'MSK Serverless storage GB-month', MSK),
    valkeyServerlessGbHour: p(0.084, 'ElastiCache Serverless Valkey GB-hour (100 MB minimum)', ELASTICACHE),
    valkeyServerlessEcpu: p(0.0023 / 1e6, 'ElastiCache Serverless Valkey ECPU', ELASTICACHE),
    keyspacesWru: p(1.45 / 1e6, 'Keyspaces on-demand write request unit', KEYSPACES, false),
    keyspacesRru: p(0.29 / 1e6, 'Keyspaces on-demand read request unit', KEYSPACES, false),
    keyspacesWcuHour: p(0.00075, 'Keyspaces provisioned WCU-hour', KEYSPACES),
    keyspacesRcuHour: p(0.00015, 'Keyspaces provisioned RCU-hour', KEYSPACES),
    secretMonth: p(0.4, 'Secrets Manager secret-month', 'https://aws.amazon.com/secrets-manager/pricing/'),
    alarmMonth: p(0.1, 'CloudWatch standard alarm-month', CLOUDWATCH),
    dashboardMonth: p(3.0, 'CloudWatch dashboard-month', CLOUDWATCH),
    logsIngestGb: p(0.5, 'CloudWatch Logs GB ingested', CLOUDWATCH),
    xrayTrace: p(5.0 / 1e6, 'X-Ray trace recorded', XRAY),
  },
} as const;

export type PriceKey = keyof typeof prices.items;
