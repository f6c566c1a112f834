import { limits } from '@chat/functions/contracts';
import { ENV } from '@chat/functions/env';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, resourceFinding } from '../nag.ts';

/** Object key prefixes (functions/src/core/attachments.ts). */
export const PENDING_PREFIX = 'pending/';
export const FINAL_PREFIX = 'attachments/';

export interface AttachmentsProps {
  /** Browser origins that may PUT (upload) and GET (download) with presigned URLs: the site's. */
  readonly allowedOrigins: readonly string[];
  /** @default RemovalPolicy.RETAIN (people's files) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The attachments bucket (docs/adr/0009-attachments.md): private (all public access blocked, objects reached
 * only through presigned URLs the functions sign), TLS only, encrypted (SSE-S3), CORS for the site's origin
 * only, and a lifecycle rule that deletes uploads still under `pending/` a day later (an attachment no message
 * referenced). The functions get least-privilege grants by what they do with it.
 */
export class Attachments extends Construct {
  public readonly bucket: s3.Bucket;
  /** ATTACHMENTS_BUCKET and S3_ENDPOINT (virtual-hosted, regional) for the functions that use the bucket. */
  public readonly environment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: AttachmentsProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      // `-c removeDataOnDestroy=true`: emptied first, or CloudFormation could not delete it.
      autoDeleteObjects: props.removalPolicy === RemovalPolicy.DESTROY,
      cors: [
        {
          allowedOrigins: [...props.allowedOrigins],
          allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
          allowedHeaders: ['content-type'],
          exposedHeaders: ['ETag'],
          maxAge: 3600,
        },
      ],
      lifecycleRules: [
        {
          id: 'expire-unreferenced-uploads',
          prefix: PENDING_PREFIX,
          expiration: Duration.seconds(limits.attachmentPendingTtlSeconds),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    this.environment = {
      [ENV.ATTACHMENTS_BUCKET]: this.bucket.bucketName,
      [ENV.S3_ENDPOINT]: `https://${this.bucket.bucketRegionalDomainName}`,
    };
    acknowledge(this.bucket, [
      {
        id: 'AwsSolutions-S1',
        reason:
          'Objects are reached only with short-lived presigned URLs the functions sign and log; server access logs would need a second bucket.',
      },
    ]);
  }

  private allow(fn: lambda.IFunction & Construct, actions: string[], prefixes: readonly string[]): void {
    const resources = prefixes.map((p) => this.bucket.arnForObjects(`${p}*`));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
    // The role's default policy holds the statement (the role is the function's sibling, not its child).
    acknowledge(fn.role ?? fn, [
      {
        id: 'AwsSolutions-IAM5',
        reason: 'Objects under one key prefix of the attachments bucket: one object per attachment id.',
        appliesTo: resources.map((r) => resourceFinding(fn, r)),
      },
    ]);
  }

  /** Presigns upload PUTs under `pending/`. */
  public grantUpload(fn: lambda.IFunction & Construct): void {
    this.allow(fn, ['s3:PutObject'], [PENDING_PREFIX]);
  }

  /**
   * Attaches uploads: HEAD (GetObject) the pending and final keys, copy pending → final (GetObject + PutObject),
   * delete the pending copy. ListBucket so that a HEAD of a missing key answers 404 rather than 403.
   */
  public grantAttach(fn: lambda.IFunction & Construct): void {
    this.allow(fn, ['s3:GetObject'], [PENDING_PREFIX, FINAL_PREFIX]);
    this.allow(fn, ['s3:PutObject'], [FINAL_PREFIX]);
    this.allow(fn, ['s3:DeleteObject'], [PENDING_PREFIX]);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${PENDING_PREFIX}*`, `${FINAL_PREFIX}*`] } },
      }),
    );
  }

  /** Presigns download GETs of attached files. */
  public grantRead(fn: lambda.IFunction & Construct): void {
    this.allow(fn, ['s3:GetObject'], [FINAL_PREFIX]);
  }
}
