import { existsSync } from 'node:fs';
import {
  HASHED_ASSETS_CACHE_CONTROL,
  HASHED_ASSETS_PREFIX,
  PAGES_CACHE_CONTROL,
} from '@chat/web/cache-control';
import { buildCsp } from '@chat/web/csp';
import { readCspHashes } from '@chat/web/csp-hashes';
import { Annotations, Duration, Fn, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';

export interface SiteProps {
  /** The web static export (`npm run build -w web` → web/out). */
  readonly webOutDir: string;
}

/** What the web app fetches from `/config.json` (web/lib/config.ts). */
export interface SiteRuntimeConfig {
  readonly httpApi: string;
  readonly wsApi: string;
  /** (issue 15) The Web Push VAPID public key (base64url), for `pushManager.subscribe`. */
  readonly vapidPublicKey?: string;
}

/** Served instead of the web app when web/out did not exist at synth time (see docs/deploy.md). */
export const PLACEHOLDER_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Chat: web app not built</title></head>
<body><h1>The web app was not built when this stack was deployed.</h1>
<p>Run <code>npm run build -w web</code>, then <code>npx cdk deploy</code> again. The APIs are up: see <a href="/config.json">config.json</a>.</p></body></html>`;

/** CloudFront's quota on the Content-Security-Policy value of a response headers policy, in characters. */
export const CLOUDFRONT_CSP_MAX_CHARS = 1783;

/** Next.js static export without trailing slashes: `/login` is `login.html`, `/` is `index.html`. */
const REWRITE_FUNCTION = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith('/')) { request.uri = uri + 'index.html'; }
  else if (uri.lastIndexOf('.') < uri.lastIndexOf('/')) { request.uri = uri + '.html'; }
  return request;
}`;

/**
 * The static web app: a private S3 bucket (no public access, TLS only) behind CloudFront with origin access
 * control, HTTPS only, security headers (HSTS, CSP limited to this region's API Gateway endpoints, no framing,
 * nosniff, strict referrer). `config.json` (the API endpoints) is written at deploy time, never cached.
 * If web/out is missing at synth, a placeholder page is deployed and synth prints a warning, so `cdk synth`
 * works on a fresh clone; `cdk deploy` after `npm run build -w web` publishes the real app.
 */
export class Site extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  /** `https://{distribution domain}`: the site's origin for CORS. */
  public readonly origin: string;
  public readonly builtFromPlaceholder: boolean;
  /** The inline scripts' hashes the CSP allows (web/out/csp-hashes.json, read at synth). */
  public readonly scriptHashes: readonly string[];
  private readonly content: s3deploy.BucketDeployment;
  /** `connect-src` besides 'self': the HTTP API's and the WebSocket API's hosts (see `publishConfig`). */
  private readonly connectSrc: string[];

  constructor(scope: Construct, id: string, props: SiteProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    const api = `*.execute-api.${region}.amazonaws.com`;
    // connect-src: the WebSocket API by its exact host once `publishConfig` knows it. The HTTP API stays the
    // region's API Gateway hosts: naming its id here would close a dependency cycle (the HTTP API's CORS names
    // this distribution, whose behaviours name this policy). See docs/auth.md.
    // + the attachments bucket (presigned uploads and downloads go straight to S3, virtual-hosted URLs; a wildcard
    // because the bucket's CORS names this distribution, which would make a cycle).
    this.connectSrc = [`https://${api}`, `wss://${api}`, `https://*.s3.${region}.amazonaws.com`];
    // The export's inline scripts, allowed by hash only (no 'unsafe-inline'): `npm run build -w web` writes
    // them to web/out/csp-hashes.json; without an export the placeholder page has no script at all.
    this.scriptHashes = readCspHashes(props.webOutDir).scriptSrc;
    const longest = buildCsp({
      connectSrc: [
        `https://${api}`,
        `wss://${'x'.repeat(10)}.execute-api.ap-southeast-3.amazonaws.com`,
        `https://*.s3.${region}.amazonaws.com`,
      ],
      scriptHashes: this.scriptHashes,
    });
    if (longest.length > CLOUDFRONT_CSP_MAX_CHARS) {
      throw new Error(
        `The CSP is ${longest.length} characters (${this.scriptHashes.length} script hashes): CloudFront takes at most ${CLOUDFRONT_CSP_MAX_CHARS}.`,
      );
    }
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'chat site security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          // The one policy of the web app (web/lib/csp.ts), also served by the local web server.
          contentSecurityPolicy: Lazy.string({
            produce: () => buildCsp({ connectSrc: this.connectSrc, scriptHashes: this.scriptHashes }),
          }),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
        // No X-XSS-Protection: deprecated, and its filter could be abused; the CSP is the protection.
      },
      customHeadersBehavior: {
        customHeaders: [
          // as the local web server sends it
          { header: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()', override: true },
        ],
      },
    });

    const origin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);
    const rewrite = new cloudfront.Function(this, 'Rewrite', {
      code: cloudfront.FunctionCode.fromInline(REWRITE_FUNCTION),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      comment: 'extensionless paths to the static export .html files',
    });
    this.distribution = new cloudfront.Distribution(this, 'Cdn', {
      comment: 'chat web app',
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        functionAssociations: [{ function: rewrite, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: {
        '/config.json': {
          origin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          responseHeadersPolicy: headers,
        },
      },
      // A private bucket answers 403 for a missing key: show the export's 404 page with a real 404.
      errorResponses: [
        { httpStatus: 403, responseHttpStatus: 404, responsePagePath: '/404.html', ttl: Duration.minutes(1) },
      ],
    });
    this.origin = `https://${this.distribution.distributionDomainName}`;

    this.builtFromPlaceholder = !existsSync(props.webOutDir);
    if (this.builtFromPlaceholder) {
      Annotations.of(this).addWarningV2(
        'chat:site-placeholder',
        `${props.webOutDir} does not exist: deploying a placeholder page. Run \`npm run build -w web\` first.`,
      );
    }
    // Browser caching as the local web server does it (web/lib/cache-control.ts). The content-hashed files go
    // first, never pruned: a tab opened before a deploy still loads the chunks its page names (old ones stay in
    // the bucket, a few hundred KB per deploy). Then the pages and the rest, revalidated on every load, pruned of
    // what the export no longer has (`exclude` keeps the hashed files and config.json out of the prune).
    const hashed = `${HASHED_ASSETS_PREFIX}*`;
    const assets = this.builtFromPlaceholder
      ? null
      : new s3deploy.BucketDeployment(this, 'HashedAssets', {
          destinationBucket: this.bucket,
          sources: [s3deploy.Source.asset(props.webOutDir)],
          exclude: ['*'],
          include: [hashed],
          prune: false,
          cacheControl: [s3deploy.CacheControl.fromString(HASHED_ASSETS_CACHE_CONTROL)],
          memoryLimit: 512,
        });
    this.content = new s3deploy.BucketDeployment(this, 'Content', {
      destinationBucket: this.bucket,
      sources: this.builtFromPlaceholder
        ? [
            s3deploy.Source.data('index.html', PLACEHOLDER_HTML),
            s3deploy.Source.data('404.html', PLACEHOLDER_HTML),
          ]
        : [s3deploy.Source.asset(props.webOutDir)],
      exclude: ['config.json', hashed],
      prune: true,
      cacheControl: [s3deploy.CacheControl.fromString(PAGES_CACHE_CONTROL)],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 512,
    });
    if (assets) this.content.node.addDependency(assets);

    acknowledge(this.bucket, [
      {
        id: 'AwsSolutions-S1',
        reason:
          'Static, public web assets behind CloudFront; request-level logs would cost more than they tell.',
      },
    ]);
    acknowledge(this.distribution, [
      { id: 'AwsSolutions-CFR1', reason: 'A chat for anyone: no geographic restriction.' },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'Static assets only; the APIs are throttled per stage. WAF ($5+/month) is an opt-in hardening.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          'Static assets only: CloudFront standard logs need an ACL-enabled log bucket; metrics suffice.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'With the default *.cloudfront.net certificate CloudFront pins the viewer policy to TLSv1 (a minimum ' +
          'protocol version needs a custom domain certificate, see docs/deploy.md).',
      },
    ]);
  }

  /**
   * Writes `/config.json` (the API endpoints) at deploy time, uncached, after the site content; the CSP's
   * `connect-src` then names the WebSocket API's own host (`wss://{id}.execute-api.{region}.amazonaws.com`).
   */
  public publishConfig(config: SiteRuntimeConfig): s3deploy.BucketDeployment {
    this.connectSrc[1] = `wss://${Fn.select(2, Fn.split('/', config.wsApi))}`;
    const deployment = new s3deploy.BucketDeployment(this, 'Config', {
      destinationBucket: this.bucket,
      sources: [s3deploy.Source.jsonData('config.json', config)],
      prune: false,
      cacheControl: [s3deploy.CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/config.json'],
      memoryLimit: 512,
    });
    deployment.node.addDependency(this.content);
    return deployment;
  }
}
