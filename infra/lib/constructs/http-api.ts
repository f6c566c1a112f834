import type { FunctionName, HttpRoute } from '@chat/functions/routes';
import { httpRouteKey } from '@chat/functions/routes';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';

export interface HttpApiProps {
  readonly routes: readonly HttpRoute[];
  readonly functions: Readonly<Record<FunctionName, lambda.IFunction>>;
  /** Browser origins allowed by CORS (the site's CloudFront origin, plus any extra). */
  readonly allowOrigins: readonly string[];
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
}

/**
 * The HTTP API: one route per route-table entry (`METHOD /path` → that function, one integration per function),
 * CORS for the site's origin only (bearer tokens, no cookies, so no credentials), stage throttling and access
 * logs. Token checks happen in the handlers (the table's `auth` flag), which verify our own EdDSA JWTs against
 * the key set; an API Gateway JWT authorizer would need a public OIDC issuer URL we do not run.
 */
export class HttpApi extends Construct {
  public readonly api: apigw.HttpApi;
  public readonly stage: apigw.HttpStage;
  public readonly routes = new Map<string, apigw.HttpRoute>();

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);
    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'Chat HTTP API (routes from functions/src/contracts/routes.ts)',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: [...props.allowOrigins],
        allowMethods: [
          apigw.CorsHttpMethod.GET,
          apigw.CorsHttpMethod.POST,
          apigw.CorsHttpMethod.PUT,
          apigw.CorsHttpMethod.PATCH,
          apigw.CorsHttpMethod.DELETE,
          apigw.CorsHttpMethod.OPTIONS,
        ],
        allowHeaders: ['authorization', 'content-type'],
        maxAge: Duration.hours(1),
      },
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigw.HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs) },
    });

    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    for (const r of props.routes) {
      const key = httpRouteKey(r);
      if (this.routes.has(key)) throw new Error(`duplicate HTTP route ${key}`);
      let integration = integrations.get(r.fn);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${r.fn}Integration`, props.functions[r.fn], {
          payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
        });
        integrations.set(r.fn, integration);
      }
      const [route] = this.api.addRoutes({
        path: r.path,
        methods: [apigw.HttpMethod[r.method]],
        integration,
      });
      if (!route) throw new Error(`no route created for ${key}`);
      this.routes.set(key, route);
      acknowledge(route, [
        {
          id: 'AwsSolutions-APIG4',
          reason: r.auth
            ? 'The handler verifies the bearer JWT (EdDSA, our key set) before anything else; API Gateway JWT ' +
              'authorizers need a public OIDC discovery URL this stack does not serve.'
            : 'Public by design: sign-up, login, refresh and logout are how a client gets (or drops) a token.',
        },
      ]);
    }
  }

  /** `https://{api}.execute-api.{region}.amazonaws.com/` */
  public get url(): string {
    const url = this.stage.url;
    return url;
  }
}
