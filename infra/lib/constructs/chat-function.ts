import { existsSync } from 'node:fs';
import path from 'node:path';
import { functionBundleOptions as fb } from '@chat/kit/bundling';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { repoRoot } from '../config.ts';
import { acknowledge } from '../nag.ts';

/** Rewrites a bundle's source map to our code's mappings (@chat/kit/source-maps). */
const sourceMapsCli = path.join(repoRoot, 'kit', 'src', 'source-maps-cli.ts');

/** functions/src: route table entries are relative to it. */
export const functionsSrc = path.join(repoRoot, 'functions', 'src');
const stubEntry = path.join(repoRoot, 'infra', 'test', 'fixtures', 'missing-entry-handler.ts');

/** The runtime every function uses (Node 24 LTS on Lambda); bundles target Node 20 syntax (@chat/kit/bundling). */
export const chatRuntime = lambda.Runtime.NODEJS_24_X;

export interface ChatFunctionProps {
  /** Handler file relative to functions/src (the route table's `entry`); it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  /** @default 10 seconds */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Merged over the house defaults (never replaces them). @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** Put the function in this VPC (private subnets with egress). @default - not in a VPC */
  readonly vpc?: ec2.IVpc;
  /** @default - none; required with `vpc` */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Modules (paths relative to functions/src) bundled in and evaluated before the handler, e.g. an adapter
   * that registers itself (adapters/cql/keyspaces-auth.ts). @default []
   */
  readonly inject?: readonly string[];
  /**
   * TEST ONLY: when the entry file does not exist, bundle a stub that throws instead of failing synth.
   * @default false
   */
  readonly stubMissingEntry?: boolean;
}

/**
 * The house function: local esbuild bundle (no Docker), ARM64, Node 24, minified ESM with source maps,
 * active tracing, its own log group with retention, and its own role whose log permissions are scoped to that
 * log group (no AWSLambdaBasicExecutionRole with `*`).
 */
export class ChatFunction extends NodejsFunction {
  /** The function's own log group (retention set). */
  public readonly functionLogGroup: logs.ILogGroup;
  /** The resolved entry file that was bundled. */
  public readonly entryFile: string;

  constructor(scope: Construct, id: string, props: ChatFunctionProps) {
    const wanted = path.join(functionsSrc, props.entry);
    const entryFile = existsSync(wanted) || !props.stubMissingEntry ? wanted : stubEntry;
    if (!existsSync(entryFile)) {
      throw new Error(`${id}: handler entry ${path.relative(repoRoot, wanted)} does not exist`);
    }
    if (props.vpc && !props.securityGroups?.length) {
      throw new Error(`${id}: a function in a VPC needs securityGroups`);
    }
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    if (props.vpc) {
      role.addManagedPolicy(
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
      );
    }

    super(scope, id, {
      entry: entryFile,
      handler: 'handler',
      description: props.description,
      runtime: chatRuntime,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(10),
      memorySize: props.memorySize ?? 512,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role,
      projectRoot: repoRoot,
      depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      ...(props.vpc
        ? {
            vpc: props.vpc,
            vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
            securityGroups: props.securityGroups,
          }
        : {}),
      bundling: {
        // The shared options (@chat/kit/bundling): the local runtime bundles with the same ones.
        format: OutputFormat.ESM,
        target: fb.target,
        platform: fb.platform,
        minify: fb.minify,
        keepNames: fb.keepNames,
        sourceMap: fb.sourcemap,
        sourcesContent: fb.sourcesContent,
        mainFields: [...fb.mainFields],
        externalModules: [...fb.external],
        banner: fb.banner,
        ...(props.inject?.length ? { inject: props.inject.map((m) => path.join(functionsSrc, m)) } : {}),
        logLevel: LogLevel.ERROR,
        // Only our code's mappings in the map (@chat/kit/source-maps says why; the local runtime's bundler does
        // the same). The hook runs in the repository root, where `tsx` resolves.
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [
            `"${process.execPath}" --import tsx "${sourceMapsCli}" "${path.join(outputDir, 'index.mjs.map')}"`,
          ],
        },
      },
    });
    this.functionLogGroup = logGroup;
    this.entryFile = entryFile;

    acknowledge(role, [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions; ' +
          'every other statement of this role names its resources.',
        appliesTo: ['Resource::*'],
      },
      ...(props.vpc
        ? [
            {
              id: 'AwsSolutions-IAM4',
              reason:
                'AWSLambdaVPCAccessExecutionRole is the AWS-maintained ENI policy Lambda needs to attach the ' +
                'function to the VPC; its ec2:Describe*/CreateNetworkInterface actions cannot be scoped to ARNs ' +
                'known at synth time.',
              appliesTo: [
                `Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole`,
              ],
            },
          ]
        : []),
    ]);
  }
}
