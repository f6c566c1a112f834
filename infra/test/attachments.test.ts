/**
 * The attachments bucket of the synthesized stack (docs/adr/0009-attachments.md): private, TLS only, encrypted,
 * CORS for the site only, the lifecycle rule on `pending/`, and least-privilege grants per function (from the
 * route table's `uses`).
 */
import { limits } from '@chat/functions/contracts';
import { type FunctionName, functionDefs } from '@chat/functions/routes';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  actionsOf,
  functionEnv,
  functionLogicalId,
  functionRoleStatements,
  resourcesOf,
  resourcesOfType,
} from './helpers.ts';
import { type Synthesized, synthChatStack } from './synth.ts';

let s: Synthesized;
let bucketId: string;

beforeAll(() => {
  s = synthChatStack();
  bucketId = s.stack.getLogicalId(s.stack.attachments.bucket.node.defaultChild as never);
});

/** The S3 statements of a function's role: action → resource strings (JSON of the CloudFormation values). */
const s3Grants = (name: FunctionName): Map<string, string[]> => {
  const out = new Map<string, string[]>();
  for (const st of functionRoleStatements(s, name))
    for (const a of actionsOf(st).filter((x) => x.startsWith('s3:')))
      out.set(a, [...(out.get(a) ?? []), ...resourcesOf(st).map((r) => JSON.stringify(r))]);
  return out;
};
const onPrefix = (resources: string[] | undefined, prefix: string) =>
  (resources ?? []).some((r) => r.includes(bucketId) && r.includes(`/${prefix}*`));

describe('When the stack is synthesized, the attachments bucket', () => {
  it('blocks public access, is encrypted and owned by the bucket owner', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: Match.anyValue(),
    });
    const bucket = s.json.Resources[bucketId];
    expect(bucket?.Type).toBe('AWS::S3::Bucket');
    expect((bucket as { DeletionPolicy?: string }).DeletionPolicy).toBe('Retain');
  });

  it('refuses every request not over TLS (bucket policy)', () => {
    const policies = resourcesOfType(s.json, 'AWS::S3::BucketPolicy').filter(
      ([, p]) => JSON.stringify(p.Properties?.Bucket) === JSON.stringify({ Ref: bucketId }),
    );
    expect(policies).toHaveLength(1);
    const statements = (
      (policies[0]?.[1].Properties?.PolicyDocument ?? { Statement: [] }) as {
        Statement: Record<string, unknown>[];
      }
    ).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Principal: { AWS: '*' },
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it('allows CORS PUT and GET from the site origin only', () => {
    const cors = s.json.Resources[bucketId]?.Properties?.CorsConfiguration as {
      CorsRules: { AllowedOrigins: unknown[]; AllowedMethods: string[]; AllowedHeaders: string[] }[];
    };
    expect(cors.CorsRules).toHaveLength(1);
    const [rule] = cors.CorsRules;
    expect(rule?.AllowedMethods.sort()).toEqual(['GET', 'HEAD', 'PUT']);
    expect(rule?.AllowedHeaders).toEqual(['content-type']);
    expect(rule?.AllowedOrigins).toEqual([s.stack.resolve(s.stack.site.origin)]);
    expect(JSON.stringify(rule?.AllowedOrigins)).not.toContain('*');
  });

  it('expires uploads left under pending/ after one day, and nothing else', () => {
    const rules = (
      (s.json.Resources[bucketId]?.Properties?.LifecycleConfiguration ?? { Rules: [] }) as {
        Rules: { Prefix?: string; ExpirationInDays?: number; Status: string }[];
      }
    ).Rules;
    expect(rules).toEqual([
      expect.objectContaining({
        Id: 'expire-unreferenced-uploads',
        Prefix: 'pending/',
        ExpirationInDays: limits.attachmentPendingTtlSeconds / 86_400,
        Status: 'Enabled',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      }),
    ]);
    expect(rules.every((r) => r.Prefix === 'pending/')).toBe(true);
  });

  it('grants each function only what it does with the bucket', () => {
    const upload = s3Grants('httpAttachments');
    expect([...upload.keys()]).toEqual(['s3:PutObject']);
    expect(onPrefix(upload.get('s3:PutObject'), 'pending/')).toBe(true);
    expect(onPrefix(upload.get('s3:PutObject'), 'attachments/')).toBe(false);

    const attach = s3Grants('wsSendMessage');
    expect([...attach.keys()].sort()).toEqual([
      's3:DeleteObject',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
    ]);
    expect(onPrefix(attach.get('s3:PutObject'), 'attachments/')).toBe(true);
    expect(onPrefix(attach.get('s3:PutObject'), 'pending/')).toBe(false);
    expect(onPrefix(attach.get('s3:DeleteObject'), 'pending/')).toBe(true);
    expect(onPrefix(attach.get('s3:DeleteObject'), 'attachments/')).toBe(false);

    for (const name of ['persistFanout', 'httpConversations'] as const) {
      const read = s3Grants(name);
      expect([...read.keys()], name).toEqual(['s3:GetObject']);
      expect(onPrefix(read.get('s3:GetObject'), 'attachments/'), name).toBe(true);
      expect(onPrefix(read.get('s3:GetObject'), 'pending/'), name).toBe(false);
    }
    const users = new Set(['httpAttachments', 'wsSendMessage', 'persistFanout', 'httpConversations']);
    for (const name of Object.keys(functionDefs) as FunctionName[]) {
      if (users.has(name)) continue;
      expect(s3Grants(name).size, name).toBe(0);
      expect(functionEnv(s, name).ATTACHMENTS_BUCKET, name).toBeUndefined();
    }
  });

  it('gives those functions the bucket name and its virtual-hosted regional endpoint', () => {
    for (const name of ['httpAttachments', 'wsSendMessage', 'persistFanout', 'httpConversations'] as const) {
      const env = functionEnv(s, name);
      expect(env.ATTACHMENTS_BUCKET, name).toEqual({ Ref: bucketId });
      expect(JSON.stringify(env.S3_ENDPOINT), name).toContain('RegionalDomainName');
      expect(env.S3_ACCESS_KEY_ID, name).toBeUndefined();
      expect(env.ATTACHMENTS_SWEEP_PENDING, name).toBeUndefined();
    }
    expect(functionLogicalId(s, 'httpAttachments')).toBeTruthy();
  });

  it('leaves no cdk-nag finding unacknowledged (bucket logs, prefix-scoped object grants)', () => {
    expect(s.nag.violations.map((v) => `${v.ruleName}: ${JSON.stringify(v.violatingResources)}`)).toEqual([]);
  });

  it('is emptied and deleted with the stack only under removeDataOnDestroy, still without nag findings', () => {
    expect(
      resourcesOfType(s.json, 'Custom::S3AutoDeleteObjects').map(([, r]) => JSON.stringify(r)),
    ).not.toContain(bucketId);
    const d = synthChatStack({ dataRemovalPolicy: RemovalPolicy.DESTROY });
    const id = d.stack.getLogicalId(d.stack.attachments.bucket.node.defaultChild as never);
    expect((d.json.Resources[id] as { DeletionPolicy?: string }).DeletionPolicy).toBe('Delete');
    const autoDelete = resourcesOfType(d.json, 'Custom::S3AutoDeleteObjects').map(([, r]) =>
      JSON.stringify(r.Properties?.BucketName),
    );
    expect(autoDelete).toContain(JSON.stringify({ Ref: id }));
    expect(d.nag.violations.map((v) => `${v.ruleName}: ${JSON.stringify(v.violatingResources)}`)).toEqual([]);
  });
});
