import { type FunctionName, functionDefs, schedules } from '@chat/functions/routes';
import { buildCsp, cspAllows } from '@chat/web/csp';
import { Stack, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnSecurityGroup } from 'aws-cdk-lib/aws-ec2';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { safeImageUrl } from '../../web/lib/markdown.ts';
import { estimateCost } from '../lib/cost/estimate.ts';
import {
  actionsOf,
  functionEnv,
  functionHasAction,
  functionLogicalId,
  functionRoleStatements,
  joinWithRegion,
  resourcesOf,
  resourcesOfType,
  siteDeployments,
} from './helpers.ts';
import { type Synthesized, synthChatStack } from './synth.ts';

let s: Synthesized;
const fnLogicalId = (name: FunctionName): string => functionLogicalId(s, name);
const roleStatements = (name: FunctionName) => functionRoleStatements(s, name);
const envOf = (name: FunctionName): Record<string, unknown> => functionEnv(s, name);
const hasAction = (name: FunctionName, action: string) => functionHasAction(s, name, action);

beforeAll(() => {
  // One synthesis per file (synth is CPU-heavy; the machine is shared).
  s = synthChatStack();
});

describe('When the default profile is synthesized', () => {
  describe('Database (Keyspaces)', () => {
    it('has one table per finalTables(migrations) entry, with the same keys, orders and columns', () => {
      const tables = resourcesOfType(s.json, 'AWS::Cassandra::Table').map(([, r]) => r.Properties ?? {});
      const expected = s.stack.database.tableDefs;
      expect(tables.map((t) => t.TableName).sort()).toEqual(expected.map((t) => t.name).sort());
      for (const def of expected) {
        const t = tables.find((x) => x.TableName === def.name) as Record<string, never>;
        const typeOf = (n: string) => def.columns.find((c) => c.name === n)?.type;
        expect(t.PartitionKeyColumns, def.name).toEqual(
          def.partitionKey.map((n) => ({ ColumnName: n, ColumnType: typeOf(n) })),
        );
        const clustering = (def.clustering ?? []).map((c) => ({
          Column: { ColumnName: c.name, ColumnType: typeOf(c.name) },
          OrderBy: c.order,
        }));
        expect(t.ClusteringKeyColumns ?? [], def.name).toEqual(clustering);
        const keys = new Set([...def.partitionKey, ...(def.clustering ?? []).map((c) => c.name)]);
        expect(t.RegularColumns ?? [], def.name).toEqual(
          def.columns
            .filter((c) => !keys.has(c.name))
            .map((c) => ({ ColumnName: c.name, ColumnType: c.type })),
        );
      }
    });

    it('uses provisioned capacity with auto scaling, PITR, and retains data on delete', () => {
      s.template.allResourcesProperties('AWS::Cassandra::Table', {
        BillingMode: Match.objectLike({ Mode: 'PROVISIONED' }),
        AutoScalingSpecifications: Match.objectLike({ WriteCapacityAutoScaling: Match.anyValue() }),
        PointInTimeRecoveryEnabled: true,
      });
      s.template.allResources('AWS::Cassandra::Table', { DeletionPolicy: 'Retain' });
    });

    it('grants cql users the chat keyspace tables and read-only system keyspaces', () => {
      const st = roleStatements('httpAuth');
      const modify = st.find((x) => actionsOf(x).includes('cassandra:Modify'));
      expect(JSON.stringify(modify?.Resource)).toContain(':/keyspace/chattest/table/*');
      expect(hasAction('wsPing', 'cassandra:Select')).toBe(false);
    });

    it('names the keyspace after the stack (two stacks never share one retained keyspace)', () => {
      s.template.hasResourceProperties('AWS::Cassandra::Keyspace', { KeyspaceName: 'chattest' });
      s.template.resourceCountIs('AWS::Cassandra::Keyspace', 1);
      expect(envOf('httpAuth').CQL_KEYSPACE).toBe('chattest');
      s.template.allResources('AWS::Cassandra::Keyspace', { DeletionPolicy: 'Retain' });
    });

    it('lets refresh tokens expire by a table TTL longer than a token lives, and nothing else', () => {
      const ttls = Object.fromEntries(
        resourcesOfType(s.json, 'AWS::Cassandra::Table').map(([, r]) => [
          r.Properties?.TableName,
          r.Properties?.DefaultTimeToLive,
        ]),
      );
      const tokenLifetime = 30 * 24 * 3600; // REFRESH_TOKEN_TTL_SECONDS' default
      expect(ttls.refresh_tokens).toBeGreaterThan(tokenLifetime);
      expect(ttls.token_families).toBeUndefined();
      expect(ttls.messages).toBeUndefined();
    });
  });

  describe('Interface endpoints', () => {
    // The port clients use per endpoint service, written here independently of the construct.
    const portsOf: Record<string, number[]> = { secretsmanager: [443], sqs: [443], cassandra: [9142] };

    it('admit, from the functions security group, the port each endpoint service is used on', () => {
      const functionsSg = s.stack.getLogicalId(
        s.stack.network.functionsSecurityGroup.node.defaultChild as CfnSecurityGroup,
      );
      const endpoints = resourcesOfType(s.json, 'AWS::EC2::VPCEndpoint').filter(
        ([, r]) => r.Properties?.VpcEndpointType === 'Interface',
      );
      expect(endpoints).toHaveLength(3);
      const ingress = resourcesOfType(s.json, 'AWS::EC2::SecurityGroupIngress').map(
        ([, r]) => r.Properties ?? {},
      );
      for (const [id, ep] of endpoints) {
        const service = JSON.stringify(ep.Properties?.ServiceName).match(/\.([a-z]+)"/)?.[1] ?? '';
        const sgs = ((ep.Properties?.SecurityGroupIds ?? []) as { 'Fn::GetAtt': [string, string] }[]).map(
          (x) => x['Fn::GetAtt'][0],
        );
        expect(portsOf[service], `${id} (${service})`).toBeDefined();
        for (const port of portsOf[service] ?? []) {
          const open = ingress.some(
            (r) =>
              sgs.includes((r.GroupId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt']?.[0]) &&
              (r.SourceSecurityGroupId as { 'Fn::GetAtt': [string, string] })?.['Fn::GetAtt']?.[0] ===
                functionsSg &&
              r.IpProtocol === 'tcp' &&
              (r.FromPort as number) <= port &&
              (r.ToPort as number) >= port,
          );
          expect(open, `${service} endpoint admits TCP ${port} from the functions`).toBe(true);
        }
      }
    });
  });

  describe('Interface endpoints (MSK)', () => {
    it('admit the MSK event source pollers on HTTPS only (they write to the SQS DLQ)', () => {
      const mskSg = s.stack.streaming.securityGroup;
      expect(mskSg).toBeDefined();
      const mskId = s.stack.getLogicalId(mskSg?.node.defaultChild as CfnSecurityGroup);
      const fromMsk = resourcesOfType(s.json, 'AWS::EC2::SecurityGroupIngress')
        .map(([, r]) => r.Properties ?? {})
        .filter(
          (r) =>
            (r.SourceSecurityGroupId as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt']?.[0] === mskId &&
            JSON.stringify(r.GroupId).includes('EndpointsSg'),
        );
      expect(fromMsk.map((r) => [r.FromPort, r.ToPort])).toEqual([[443, 443]]);
    });
  });

  describe('Cache', () => {
    it('is ElastiCache Serverless Valkey reached over TLS (rediss://)', () => {
      s.template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', { Engine: 'valkey' });
      expect(JSON.stringify(envOf('wsPing').REDIS_URL)).toContain('rediss://');
    });
  });

  describe('ChatFunction', () => {
    it('runs every route-table function on ARM64, Node 24, with tracing, in the VPC', () => {
      for (const name of Object.keys(functionDefs) as FunctionName[]) {
        const p = s.json.Resources[fnLogicalId(name)]?.Properties ?? {};
        expect(p.Architectures, name).toEqual(['arm64']);
        expect(p.Runtime, name).toBe('nodejs24.x');
        expect(p.TracingConfig, name).toEqual({ Mode: 'Active' });
        expect(p.VpcConfig, name).toBeDefined();
        expect(p.Timeout, name).toBe(functionDefs[name].timeoutSeconds);
        expect(p.MemorySize, name).toBe(functionDefs[name].memoryMb);
      }
    });

    it('sets exactly the config.ts variables that match each function uses', () => {
      const byUse: Record<string, string[]> = {
        redis: ['REDIS_URL'],
        cql: ['CQL_CONTACT_POINTS', 'CQL_PORT', 'CQL_KEYSPACE', 'CQL_LOCAL_DC', 'CQL_AUTH', 'CQL_TLS'],
        kafkaProduce: [
          'KAFKA_BROKERS',
          'KAFKA_AUTH',
          'KAFKA_TOPIC_MESSAGES',
          'KAFKA_TOPIC_DLQ',
          'KAFKA_TOPIC_NOTIFICATIONS',
        ],
        push: ['WS_MANAGEMENT_ENDPOINT'],
        jwtSign: ['JWT_KEYS_SECRET_ARN'],
        jwtVerify: ['JWT_PUBLIC_KEYS_SECRET_ARN'],
        attachmentsUpload: ['ATTACHMENTS_BUCKET', 'S3_ENDPOINT'],
        attachmentsAttach: ['ATTACHMENTS_BUCKET', 'S3_ENDPOINT'],
        attachmentsRead: ['ATTACHMENTS_BUCKET', 'S3_ENDPOINT'],
        webPush: ['VAPID_KEYS_SECRET_ARN', 'VAPID_SUBJECT'],
      };
      const common = [
        'NODE_OPTIONS',
        'LOG_LEVEL',
        'WEB_ORIGIN',
        'JWT_ISSUER',
        'JWT_AUDIENCE',
        'PUSH_ENDPOINT_HOSTS',
      ];
      for (const name of Object.keys(functionDefs) as FunctionName[]) {
        const vars = envOf(name);
        const expected = [...common, ...functionDefs[name].uses.flatMap((u) => byUse[u] ?? [])];
        expect(Object.keys(vars).sort(), name).toEqual([...new Set(expected)].sort());
      }
      const env = envOf('httpAuth');
      expect(env.CQL_AUTH).toBe('sigv4');
      expect(env.CQL_PORT).toBe('9142');
      expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
    });

    it('writes logs to its own log group with retention, not through a wildcard', () => {
      for (const name of Object.keys(functionDefs) as FunctionName[]) {
        const logs = roleStatements(name).find((x) => actionsOf(x).includes('logs:PutLogEvents'));
        expect(JSON.stringify(logs?.Resource), name).toContain('Logs');
        expect(logs?.Resource, name).not.toBe('*');
      }
      s.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });
  });

  describe('Sweeper', () => {
    it('runs the scheduled function on an EventBridge rate', () => {
      const [schedule] = schedules;
      s.template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: `rate(${(schedule?.everySeconds ?? 0) / 60} minute)`,
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fnLogicalId('sweeper'), 'Arn'] } })],
      });
    });
  });

  describe('JwtKeys', () => {
    it('generates the key set with a custom resource into a rotated secret, and publishes its public half', () => {
      s.template.hasResourceProperties('Custom::JwtKeySet', {
        SecretArn: Match.anyValue(),
        PublicSecretArn: Match.anyValue(),
        Alg: 'EdDSA',
      });
      s.template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
        RotationRules: { ScheduleExpression: 'rate(30 days)' },
      });
    });

    it('lets only the signing function read the private key set; verifiers read the public one', () => {
      const secretId = (description: string) => {
        const found = resourcesOfType(s.json, 'AWS::SecretsManager::Secret').find(([, r]) =>
          String(r.Properties?.Description).startsWith(description),
        );
        if (!found) throw new Error(`no secret "${description}"`);
        return found[0];
      };
      const privateId = secretId('Chat JWT signing key set');
      const publicId = secretId('Chat JWT public key set');
      /** Whether a function's role may read that secret (GetSecretValue on a Resource naming it). */
      const reads = (name: FunctionName, id: string) =>
        roleStatements(name).some(
          (st) =>
            actionsOf(st).includes('secretsmanager:GetSecretValue') &&
            resourcesOf(st).some((r) => JSON.stringify(r).includes(`"${id}"`) || r === '*'),
        );
      const signers = (Object.keys(functionDefs) as FunctionName[]).filter((n) =>
        (functionDefs[n].uses as readonly string[]).includes('jwtSign'),
      );
      expect(signers).toEqual(['httpAuth']);
      for (const name of Object.keys(functionDefs) as FunctionName[]) {
        const uses = functionDefs[name].uses as readonly string[];
        expect(reads(name, privateId), `${name} reads the private key set`).toBe(name === 'httpAuth');
        expect(reads(name, publicId), `${name} reads the public key set`).toBe(uses.includes('jwtVerify'));
      }
      expect(reads('httpConversations', publicId)).toBe(true);
      expect(reads('httpDirectory', publicId)).toBe(true);
    });
  });

  describe('Site', () => {
    it('keeps the bucket private, TLS-only, behind CloudFront with origin access control', () => {
      s.template.hasResourceProperties('AWS::S3::Bucket', {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      });
      s.template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
        OriginAccessControlConfig: Match.objectLike({
          OriginAccessControlOriginType: 's3',
          SigningBehavior: 'always',
        }),
      });
      s.template.hasResourceProperties('AWS::CloudFront::Distribution', {
        DistributionConfig: Match.objectLike({
          DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
        }),
      });
    });

    it('compresses text responses on every behaviour (as the local web server does)', () => {
      const [[, cdn] = []] = resourcesOfType(s.json, 'AWS::CloudFront::Distribution');
      const config = cdn?.Properties?.DistributionConfig as
        | { DefaultCacheBehavior?: { Compress?: unknown }; CacheBehaviors?: Array<{ Compress?: unknown }> }
        | undefined;
      const behaviours = [config?.DefaultCacheBehavior, ...(config?.CacheBehaviors ?? [])];
      expect(behaviours.length).toBeGreaterThan(1);
      for (const b of behaviours) expect(b?.Compress).toBe(true);
    });

    it('serves the one web CSP, whose img-src admits the https images the Markdown renderer allows', () => {
      const [[, policy] = []] = resourcesOfType(s.json, 'AWS::CloudFront::ResponseHeadersPolicy');
      const config = policy?.Properties?.ResponseHeadersPolicyConfig as
        | { SecurityHeadersConfig?: { ContentSecurityPolicy?: { ContentSecurityPolicy?: unknown } } }
        | undefined;
      const csp = config?.SecurityHeadersConfig?.ContentSecurityPolicy?.ContentSecurityPolicy;
      // connect-src names the WebSocket API's own host: the host part of its URL, cut out by Fn::Select
      const wsApi = s.stack.getLogicalId(s.stack.realtime.api.node.defaultChild as never);
      const join = (csp as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
      const host = join[1].find((p) => typeof p === 'object' && p !== null && 'Fn::Select' in p);
      expect(JSON.stringify(host)).toContain(`{"Ref":"${wsApi}"}`);
      const text = joinWithRegion(
        {
          'Fn::Join': [
            join[0],
            join[1].map((p) => (p === host ? 'abc123.execute-api.eu-west-1.amazonaws.com' : p)),
          ],
        },
        'eu-west-1',
      );
      expect(text).toBe(
        buildCsp({
          connectSrc: [
            'https://*.execute-api.eu-west-1.amazonaws.com',
            'wss://abc123.execute-api.eu-west-1.amazonaws.com',
            'https://*.s3.eu-west-1.amazonaws.com',
          ],
          scriptHashes: s.stack.site.scriptHashes,
        }),
      );
      const site = 'https://d111111abcdef8.cloudfront.net';
      const image = 'https://upload.wikimedia.org/cat.png';
      expect(safeImageUrl(image)).toBe(image);
      expect(cspAllows(text, 'img-src', image, site)).toBe(true);
      // What the renderer refuses may stay refused; the APIs stay reachable.
      expect(safeImageUrl('http://example.com/x.png')).toBeNull();
      expect(
        cspAllows(text, 'connect-src', 'wss://abc123.execute-api.eu-west-1.amazonaws.com/prod', site),
      ).toBe(true);
      expect(cspAllows(text, 'connect-src', 'https://evil.example.com/', site)).toBe(false);
      // Presigned attachment uploads and downloads go straight to the bucket (virtual-hosted, regional).
      expect(
        cspAllows(
          text,
          'connect-src',
          'https://chat-attachments-x.s3.eu-west-1.amazonaws.com/pending/a',
          site,
        ),
      ).toBe(true);
      expect(cspAllows(text, 'connect-src', 'wss://other.execute-api.eu-west-1.amazonaws.com/', site)).toBe(
        false,
      );
    });

    it('sends security headers', () => {
      s.template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
        ResponseHeadersPolicyConfig: Match.objectLike({
          SecurityHeadersConfig: Match.objectLike({
            StrictTransportSecurity: Match.objectLike({ Override: true }),
            ContentSecurityPolicy: Match.objectLike({ Override: true }),
            FrameOptions: { FrameOption: 'DENY', Override: true },
            ContentTypeOptions: { Override: true },
          }),
        }),
      });
    });

    it('writes config.json with the two API endpoints at deploy time, without pruning the site', () => {
      // (the hashed files' deployment, when web/out exists, is the other one without pruning: site-csp.test.ts)
      const { config, content } = siteDeployments(s.json);
      const markers = JSON.stringify(config?.props.SourceMarkers);
      expect(markers).toContain(s.stack.getLogicalId(s.stack.http.api.node.defaultChild as never));
      expect(markers).toContain(s.stack.getLogicalId(s.stack.realtime.api.node.defaultChild as never));
      expect(content?.props.Exclude).toEqual(['config.json', '_next/static/*']);
    });
  });

  describe('Observability', () => {
    it('alarms on DLQ depth, offset lag, function errors and API 5xx, with a dashboard', () => {
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
      });
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'OffsetLag',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnLogicalId('persistFanout') } }],
      });
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: '5xx' });
      for (const name of Object.keys(functionDefs) as FunctionName[]) {
        s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnLogicalId(name) } }],
        });
      }
      s.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    });
  });

  describe('Outputs', () => {
    it('has the site, WebSocket and HTTP API URLs', () => {
      s.template.hasOutput('SiteUrl', {});
      s.template.hasOutput('WebSocketUrl', {});
      s.template.hasOutput('HttpApiUrl', {});
    });
  });

  describe('IAM', () => {
    // Actions that accept no resource-level permission (IAM "*" only), and CDK-owned exceptions.
    const wildcardOnly = new Set([
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'secretsmanager:GetRandomPassword',
      'cloudfront:GetInvalidation',
      'cloudfront:CreateInvalidation',
    ]);

    it('uses no wildcard resource where a scoped ARN is possible', () => {
      const offenders: string[] = [];
      for (const [id, policy] of resourcesOfType(s.json, 'AWS::IAM::Policy')) {
        const doc = policy.Properties?.PolicyDocument as {
          Statement: { Action: string | string[]; Resource: unknown }[];
        };
        for (const st of doc.Statement) {
          const resources = Array.isArray(st.Resource) ? st.Resource : [st.Resource];
          if (!resources.includes('*')) continue;
          const actions = Array.isArray(st.Action) ? st.Action : [st.Action];
          for (const a of actions) if (!wildcardOnly.has(a)) offenders.push(`${id}: ${a}`);
        }
      }
      expect(offenders).toEqual([]);
    });
  });

  describe('Cost', () => {
    it('prices the idle MSK cluster, NAT and endpoints, and more recipients cost more per message', () => {
      const e = estimateCost(s.json);
      const items = e.idleLines.map((l) => l.item).join('\n');
      expect(items).toMatch(/MSK Serverless cluster × 1/);
      expect(items).toMatch(/NAT gateway × 1/);
      expect(items).toMatch(/interface endpoints \(6 endpoint-AZs\)/);
      expect(e.idleMonthly).toBeGreaterThan(500);
      expect(e.perMillion[10]).toBeGreaterThan(e.perMillion[2] ?? Number.POSITIVE_INFINITY);
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    it('has zero unacknowledged findings', () => {
      const findings = s.nag.violations.map(
        (v) => `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
      expect(findings).toEqual([]);
    });

    it('gives every acknowledgement a written reason', () => {
      const acks: { path: string; id: string; reason: string }[] = [];
      const visit = (c: IConstruct) => {
        for (const m of c.node.metadata) {
          if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
          for (const [id, reason] of Object.entries(m.data as Record<string, unknown>)) {
            acks.push({
              path: c.node.path,
              id,
              reason: typeof reason === 'string' ? reason : JSON.stringify(reason),
            });
          }
        }
        for (const child of c.node.children) visit(child);
      };
      visit(Stack.of(s.stack));
      expect(acks.length).toBeGreaterThan(0);
      for (const a of acks) expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThanOrEqual(20);
    });
  });
});
