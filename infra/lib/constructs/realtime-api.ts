import type { FunctionName, WsRoute } from '@chat/functions/routes';
import { wsRouteSelectionExpression } from '@chat/functions/routes';
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigwv1 from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IConstruct } from 'constructs';
import { acknowledge, resourceFinding } from '../nag.ts';

export interface RealtimeApiProps {
  /** @default 'prod' */
  readonly stageName?: string;
  /** Stage-wide throttle (all routes, all connections). */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /**
   * Stage access logs to CloudWatch Logs. API Gateway writes them with the account-level CloudWatch Logs role
   * (`AWS::ApiGateway::Account`, one per account and Region): without it the stage fails to create.
   * @default true
   */
  readonly accessLogging?: boolean;
  /**
   * Create that account-level role and setting here (`-c apiGatewayAccountRole=false` where an organization or
   * another stack manages it). Retained on `cdk destroy`: other APIs of the account may log through it.
   * @default true
   */
  readonly accountRole?: boolean;
}

/**
 * The WebSocket API and its stage. Routes are added from the route table with `addRoutes` once the functions
 * exist (the functions need the stage's callback URL first): one Lambda proxy integration per route, and a
 * `$default` route response where the table says `returnResponse: true`, so the handler's result reaches the
 * caller. `grantPush` gives `execute-api:ManageConnections` on this stage's @connections only.
 */
export class RealtimeApi extends Construct {
  public readonly api: apigw.WebSocketApi;
  public readonly stage: apigw.WebSocketStage;
  public readonly routes = new Map<string, apigw.WebSocketRoute>();
  /** The account-level API Gateway CloudWatch Logs setting, when this stack manages it. */
  public readonly account?: apigwv1.CfnAccount;

  constructor(scope: Construct, id: string, props: RealtimeApiProps) {
    super(scope, id);
    this.api = new apigw.WebSocketApi(this, 'Api', {
      description: 'Chat WebSocket API (routes from functions/src/contracts/routes.ts)',
      routeSelectionExpression: wsRouteSelectionExpression,
    });
    if (props.accountRole ?? true) {
      const role = new iam.Role(this, 'CloudWatchRole', {
        assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
        description: 'API Gateway (account-wide): writes access and execution logs to CloudWatch Logs',
        managedPolicies: [
          iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
        ],
      });
      role.applyRemovalPolicy(RemovalPolicy.RETAIN);
      this.account = new apigwv1.CfnAccount(this, 'Account', { cloudWatchRoleArn: role.roleArn });
      this.account.applyRemovalPolicy(RemovalPolicy.RETAIN);
      acknowledge(role, [
        {
          id: 'AwsSolutions-IAM4',
          reason:
            'The AWS managed policy made for this account-level API Gateway logging role (log groups are created ' +
            'by API Gateway per API and stage, so no narrower resource list exists).',
          appliesTo: [
            'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
          ],
        },
      ]);
    }
    const accessLogging = props.accessLogging ?? true;
    const accessLogs = accessLogging
      ? new logs.LogGroup(this, 'AccessLogs', {
          retention: logs.RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        })
      : undefined;
    this.stage = new apigw.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName ?? 'prod',
      autoDeploy: true,
      throttle: props.throttle,
      ...(accessLogs
        ? { accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs) } }
        : {}),
    });
    // The stage with access logs is refused until the account has its CloudWatch Logs role.
    if (this.account) this.stage.node.addDependency(this.account);
    if (!accessLogs) {
      acknowledge(this.stage, [
        {
          id: 'AwsSolutions-APIG1',
          reason:
            'Access logging is off by context (-c apiGatewayAccountRole=false without -c accessLogging=true): ' +
            'the account has no API Gateway CloudWatch Logs role this stack may rely on.',
        },
      ]);
    }
  }

  /** `https://{api}.execute-api.{region}.amazonaws.com/{stage}`: WS_MANAGEMENT_ENDPOINT. */
  public get callbackUrl(): string {
    return this.stage.callbackUrl;
  }

  /** `wss://…/{stage}`: what clients connect to. */
  public get url(): string {
    return this.stage.url;
  }

  public addRoutes(
    routes: readonly WsRoute[],
    functions: Readonly<Record<FunctionName, lambda.IFunction>>,
  ): void {
    for (const r of routes) {
      if (this.routes.has(r.routeKey)) throw new Error(`duplicate WebSocket route ${r.routeKey}`);
      const route = this.api.addRoute(r.routeKey, {
        integration: new WebSocketLambdaIntegration(`${r.fn}Integration`, functions[r.fn]),
        returnResponse: r.returnResponse,
      });
      this.routes.set(r.routeKey, route);
      acknowledge(route, [
        {
          id: 'AwsSolutions-APIG4',
          reason:
            r.routeKey === '$connect'
              ? '$connect authorizes in its handler: it redeems the single-use ticket (got over HTTPS with a JWT) ' +
                'and answers 401 otherwise, so no socket opens without one.'
              : 'Only $connect can carry an authorizer on a WebSocket API; this route is reachable only on a ' +
                'connection $connect accepted, and the handler checks the connection it belongs to.',
        },
      ]);
    }
  }

  /** PostToConnection / GetConnection / DeleteConnection on this stage, nothing else. */
  public grantPush(grantee: iam.IGrantable): iam.Grant {
    const grant = this.stage.grantManagementApiAccess(grantee);
    const stack = Stack.of(this);
    const connections = stack.formatArn({
      service: 'execute-api',
      resource: this.api.apiId,
      resourceName: `${this.stage.stageName}/*/@connections/*`,
    });
    acknowledge(grantee.grantPrincipal as unknown as IConstruct, [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'ManageConnections on this stage\u2019s @connections only: connection ids are created at run time, ' +
          'and the method wildcard covers POST (push), GET and DELETE (sweeper) on the same path.',
        appliesTo: [resourceFinding(this, connections)],
      },
    ]);
    return grant;
  }
}
