import { clientTimestampTables, finalTables, migrations, type TableDef } from '@chat/functions/schema';
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cassandra from 'aws-cdk-lib/aws-cassandra';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IConstruct } from 'constructs';
import { type DatabaseConfig, keyspaceNameFor } from '../config.ts';
import { acknowledge, resourceFinding } from '../nag.ts';

export interface DatabaseProps {
  readonly config: DatabaseConfig;
  /**
   * What `cdk destroy` does with the keyspace and its tables (chat history is user data).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Provisioned capacity bounds per table (profile `default`). @default { min: 5, max: 1000, target: 70 } */
  readonly autoScaling?: { readonly min: number; readonly max: number; readonly targetPercent: number };
}

/**
 * Tables whose rows expire by themselves (Keyspaces default TTL, seconds since the row's last write).
 * refresh_tokens: a token lives 30 days (REFRESH_TOKEN_TTL_SECONDS' default, functions/src/platform/config.ts)
 * and then only answers "expired"; the row is kept 30 more days so a replayed old token still meets its
 * `used_at` (reuse detection) for a while, then it goes. Without a TTL the table grows with every refresh.
 * token_families does not expire: a session lives as long as it keeps rotating.
 */
export const TABLE_TTL_SECONDS: Readonly<Record<string, number>> = {
  refresh_tokens: 60 * 24 * 3600,
};

/** How many tables CloudFormation creates at once (Keyspaces DDL is asynchronous and rate limited). */
const CREATE_LANES = 4;

/**
 * The CQL store. Either Amazon Keyspaces (keyspace + one AWS::Cassandra::Table per table, generated from the
 * same migrations the migration runner applies locally: `finalTables(migrations)`, no second copy), or an
 * existing ScyllaDB/Cassandra cluster given by contact points (schema applied with the migration runner).
 * `environment` is the CQL_* part of the functions' environment; `grantReadWrite` is the least privilege a
 * function with `cql` in its `uses` needs.
 */
export class Database extends Construct {
  public readonly keyspace?: cassandra.CfnKeyspace;
  public readonly tables: cassandra.CfnTable[] = [];
  /** The schema the tables were generated from. */
  public readonly tableDefs: readonly TableDef[];
  public readonly environment: Readonly<Record<string, string>>;
  /** The keyspace the functions use (`-c keyspace`, else named after the stack for Keyspaces). */
  public readonly keyspaceName: string;
  private readonly secret?: secretsmanager.ISecret;
  private readonly config: DatabaseConfig;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    this.config = props.config;
    this.tableDefs = finalTables(migrations);
    const region = Stack.of(this).region;

    if (props.config.kind === 'cql') {
      const c = props.config;
      this.keyspaceName = c.keyspace;
      if (c.secretArn) this.secret = secretFromArn(this, 'CqlSecret', c.secretArn);
      this.environment = {
        CQL_CONTACT_POINTS: c.contactPoints.join(','),
        CQL_PORT: String(c.port),
        CQL_KEYSPACE: c.keyspace,
        CQL_LOCAL_DC: c.localDc,
        CQL_AUTH: c.secretArn ? 'password' : 'none',
        CQL_TLS: String(c.tls),
        ...(c.secretArn ? { CQL_SECRET_ARN: c.secretArn } : {}),
      };
      return;
    }

    const c = props.config;
    this.keyspaceName = c.keyspace ?? keyspaceNameFor(Stack.of(this).stackName);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.keyspace = new cassandra.CfnKeyspace(this, 'Keyspace', {
      keyspaceName: this.keyspaceName,
      replicationSpecification: { replicationStrategy: 'SINGLE_REGION' },
    });
    this.keyspace.applyRemovalPolicy(removalPolicy);

    const scaling = props.autoScaling ?? { min: 5, max: 1000, targetPercent: 70 };
    const setting: cassandra.CfnTable.AutoScalingSettingProperty = {
      minimumUnits: scaling.min,
      maximumUnits: scaling.max,
      scalingPolicy: { targetTrackingScalingPolicyConfiguration: { targetValue: scaling.targetPercent } },
    };
    this.tableDefs.forEach((t, i) => {
      const typeOf = (name: string): string => {
        const col = t.columns.find((x) => x.name === name);
        if (!col) throw new Error(`table ${t.name}: key column ${name} is not a column`);
        return col.type;
      };
      const keyNames = new Set([...t.partitionKey, ...(t.clustering ?? []).map((x) => x.name)]);
      const table = new cassandra.CfnTable(this, `Table_${t.name}`, {
        keyspaceName: this.keyspace?.ref ?? this.keyspaceName,
        tableName: t.name,
        partitionKeyColumns: t.partitionKey.map((name) => ({ columnName: name, columnType: typeOf(name) })),
        ...(t.clustering?.length
          ? {
              clusteringKeyColumns: t.clustering.map((x) => ({
                column: { columnName: x.name, columnType: typeOf(x.name) },
                orderBy: x.order,
              })),
            }
          : {}),
        regularColumns: t.columns
          .filter((x) => !keyNames.has(x.name))
          .map((x) => ({ columnName: x.name, columnType: x.type })),
        billingMode:
          c.capacity === 'on-demand'
            ? { mode: 'ON_DEMAND' }
            : {
                mode: 'PROVISIONED',
                provisionedThroughput: { readCapacityUnits: scaling.min, writeCapacityUnits: scaling.min },
              },
        ...(c.capacity === 'provisioned'
          ? {
              autoScalingSpecifications: {
                readCapacityAutoScaling: setting,
                writeCapacityAutoScaling: setting,
              },
            }
          : {}),
        ...(TABLE_TTL_SECONDS[t.name] ? { defaultTimeToLive: TABLE_TTL_SECONDS[t.name] } : {}),
        // Written `USING TIMESTAMP` (max-registers, docs/adr/0006-persist-without-paxos.md); one-way switch.
        ...(clientTimestampTables.includes(t.name) ? { clientSideTimestampsEnabled: true } : {}),
        pointInTimeRecoveryEnabled: true,
        encryptionSpecification: { encryptionType: 'AWS_OWNED_KMS_KEY' },
      });
      table.applyRemovalPolicy(removalPolicy);
      const previous = this.tables[i - CREATE_LANES];
      if (previous) table.node.addDependency(previous);
      this.tables.push(table);
    });

    this.environment = {
      CQL_CONTACT_POINTS: `cassandra.${region}.${Stack.of(this).urlSuffix}`,
      CQL_PORT: '9142',
      CQL_KEYSPACE: this.keyspaceName,
      CQL_LOCAL_DC: region,
      CQL_AUTH: 'sigv4',
      CQL_TLS: 'true',
    };
  }

  /** Read and write the chat keyspace (and read the system keyspaces the driver queries on connect). */
  public grantReadWrite(grantee: iam.IGrantable): void {
    if (this.config.kind === 'cql') {
      this.secret?.grantRead(grantee);
      return;
    }
    const stack = Stack.of(this);
    // Keyspaces ARNs have a "/" right after the account: arn:aws:cassandra:region:account:/keyspace/ks/table/t
    const ksArn = (ks: string) =>
      `arn:${stack.partition}:cassandra:${stack.region}:${stack.account}:/keyspace/${ks}`;
    const tables = `${ksArn(this.keyspaceName)}/table/*`;
    const system = `${ksArn('system')}*`;
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['cassandra:Select', 'cassandra:Modify'],
      resourceArns: [tables],
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['cassandra:Select'], resourceArns: [system] });
    acknowledge(grantee.grantPrincipal as unknown as IConstruct, [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'Every table of the chat keyspace (table/*: the migrations add tables) and read-only access to the ' +
          'system keyspaces (system*) that the CQL driver reads on connect (peers, schema).',
        appliesTo: [resourceFinding(this, tables), resourceFinding(this, system)],
      },
    ]);
  }
}

export function secretFromArn(scope: Construct, id: string, arn: string): secretsmanager.ISecret {
  // A complete ARN ends in "-" + 6 random characters; anything else is treated as a partial ARN.
  return /-[A-Za-z0-9]{6}$/.test(arn)
    ? secretsmanager.Secret.fromSecretCompleteArn(scope, id, arn)
    : secretsmanager.Secret.fromSecretPartialArn(scope, id, arn);
}
