import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import { Construct } from 'constructs';

export interface CacheProps {
  readonly vpc: ec2.IVpc;
  /** Security groups allowed to connect (the functions'). */
  readonly clients: ec2.ISecurityGroup;
  /** Upper bound on stored data, GB: caps the bill if a bug fills the cache. @default 5 */
  readonly maxDataGb?: number;
  /** Upper bound on ElastiCache processing units per second. @default 50_000 */
  readonly maxEcpuPerSecond?: number;
}

/**
 * ElastiCache Serverless for Valkey: presence, connection registry, tickets, rate limits. TLS is always on
 * (ElastiCache Serverless refuses plaintext), so the functions get a `rediss://` URL, which the Redis adapter
 * turns into a TLS connection. Reachable only from the functions' security group, in private subnets.
 * Everything stored is ephemeral (TTL'd presence, one-time tickets): no snapshots.
 */
export class Cache extends Construct {
  public readonly cache: elasticache.CfnServerlessCache;
  public readonly securityGroup: ec2.SecurityGroup;
  /** `rediss://host:port` for REDIS_URL. */
  public readonly redisUrl: string;

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, 'Sg', {
      vpc: props.vpc,
      description: 'ElastiCache Serverless (Valkey): inbound 6379-6380 from the chat functions only',
      allowAllOutbound: false,
    });
    // 6379 = primary endpoint, 6380 = reader endpoint of ElastiCache Serverless.
    this.securityGroup.addIngressRule(props.clients, ec2.Port.tcpRange(6379, 6380), 'chat functions');

    const name = `${Stack.of(this).stackName}-cache`
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .slice(0, 40);
    this.cache = new elasticache.CfnServerlessCache(this, 'Valkey', {
      serverlessCacheName: name,
      engine: 'valkey',
      majorEngineVersion: '8',
      description: 'chat presence, connections, tickets',
      subnetIds: props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
      securityGroupIds: [this.securityGroup.securityGroupId],
      cacheUsageLimits: {
        dataStorage: { maximum: props.maxDataGb ?? 5, unit: 'GB' },
        ecpuPerSecond: { maximum: props.maxEcpuPerSecond ?? 50_000 },
      },
    });
    this.redisUrl = `rediss://${this.cache.attrEndpointAddress}:${this.cache.attrEndpointPort}`;
  }
}
