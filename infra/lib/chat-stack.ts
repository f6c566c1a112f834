import { httpRoutes, kafkaConsumers, schedules, wsRoutes } from '@chat/functions/routes';
import { CfnOutput, type RemovalPolicy, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ChatConfig } from './config.ts';
import { Attachments } from './constructs/attachments.ts';
import { Cache } from './constructs/cache.ts';
import { ChatFunctions } from './constructs/chat-functions.ts';
import { Database } from './constructs/database.ts';
import { HttpApi } from './constructs/http-api.ts';
import { JwtKeys } from './constructs/jwt-keys.ts';
import { MessagePersister } from './constructs/message-persister.ts';
import { Network } from './constructs/network.ts';
import { Observability } from './constructs/observability.ts';
import { RealtimeApi } from './constructs/realtime-api.ts';
import { Site } from './constructs/site.ts';
import { Streaming } from './constructs/streaming.ts';
import { Sweeper } from './constructs/sweeper.ts';
import { VapidKeys } from './constructs/vapid-keys.ts';
import { acknowledgeCdkInternals } from './nag.ts';

export interface ChatStackProps extends StackProps {
  readonly config: ChatConfig;
  /**
   * What `cdk destroy` does with the Keyspaces keyspace and tables (chat history).
   * @default RemovalPolicy.RETAIN
   */
  readonly dataRemovalPolicy?: RemovalPolicy;
}

/**
 * The whole chat system. The stack only composes constructs (one per concern) and passes objects between
 * them; the route table (functions/src/contracts/routes.ts) decides functions, routes, the Kafka consumer and
 * the schedule.
 */
export class ChatStack extends Stack {
  public readonly network: Network;
  public readonly streaming: Streaming;
  public readonly cache: Cache;
  public readonly database: Database;
  public readonly jwtKeys: JwtKeys;
  public readonly vapidKeys: VapidKeys;
  public readonly site: Site;
  public readonly attachments: Attachments;
  public readonly realtime: RealtimeApi;
  public readonly functions: ChatFunctions;
  public readonly http: HttpApi;
  public readonly persisters: MessagePersister[];
  public readonly sweepers: Sweeper[];
  public readonly observability: Observability;

  constructor(scope: Construct, id: string, props: ChatStackProps) {
    super(scope, id, props);
    const { config } = props;
    const stub = config.missingEntries === 'stub';
    // CloudWatch dashboards take no Tags in CloudFormation (cfn-lint E3002), though CDK would add them.
    const untaggable = ['AWS::CloudWatch::Dashboard'];
    Tags.of(this).add('app', 'chat', { excludeResourceTypes: untaggable });
    Tags.of(this).add('profile', config.profile, { excludeResourceTypes: untaggable });

    this.network = new Network(this, 'Network', { config: config.network });
    const { vpc, functionsSecurityGroup } = this.network;
    this.streaming = new Streaming(this, 'Streaming', {
      config: config.streaming,
      vpc,
      clients: functionsSecurityGroup,
      stubMissingEntries: stub,
    });
    if (this.streaming.securityGroup)
      this.network.allowEndpointsFrom(this.streaming.securityGroup, { httpsOnly: true });
    this.cache = new Cache(this, 'Cache', { vpc, clients: functionsSecurityGroup });
    this.database = new Database(this, 'Database', {
      config: config.database,
      ...(props.dataRemovalPolicy ? { removalPolicy: props.dataRemovalPolicy } : {}),
    });
    this.jwtKeys = new JwtKeys(this, 'JwtKeys', {
      rotationDays: config.jwtRotationDays,
      stubMissingEntries: stub,
    });
    this.vapidKeys = new VapidKeys(this, 'VapidKeys', { stubMissingEntries: stub });
    this.site = new Site(this, 'Site', { webOutDir: config.webOutDir });
    this.attachments = new Attachments(this, 'Attachments', {
      allowedOrigins: [this.site.origin, ...config.extraCorsOrigins],
      ...(props.dataRemovalPolicy ? { removalPolicy: props.dataRemovalPolicy } : {}),
    });
    this.realtime = new RealtimeApi(this, 'Realtime', {
      stageName: config.wsStageName,
      throttle: config.wsThrottle,
      accountRole: config.apiGatewayAccountRole,
      accessLogging: config.accessLogging,
    });

    this.functions = new ChatFunctions(this, 'Functions', {
      vpc,
      securityGroup: functionsSecurityGroup,
      cache: this.cache,
      database: this.database,
      streaming: this.streaming,
      realtime: this.realtime,
      jwtKeys: this.jwtKeys,
      attachments: this.attachments,
      webPush: { keys: this.vapidKeys, subject: config.webPush.subject },
      environment: {
        LOG_LEVEL: 'INFO',
        WEB_ORIGIN: [this.site.origin, ...config.extraCorsOrigins].join(','),
        JWT_ISSUER: config.jwtIssuer,
        JWT_AUDIENCE: config.jwtAudience,
        // Web Push endpoint allowlist (subscriptions are checked when stored and again when sent). Never
        // PUSH_ALLOW_LOOPBACK here: loopback endpoints are for the local runtime only.
        PUSH_ENDPOINT_HOSTS: config.webPush.endpointHosts.join(','),
      },
      stubMissingEntries: stub,
    });
    const fns = this.functions.byName;
    this.realtime.addRoutes(wsRoutes, fns);
    this.http = new HttpApi(this, 'Http', {
      routes: httpRoutes,
      functions: fns,
      allowOrigins: [this.site.origin, ...config.extraCorsOrigins],
      throttle: config.httpThrottle,
    });
    this.persisters = kafkaConsumers.map(
      (consumer) =>
        new MessagePersister(this, `Persist${consumer.fn}`, {
          consumer,
          fn: fns[consumer.fn],
          streaming: this.streaming,
          config: config.kafkaConsumer,
        }),
    );
    this.sweepers = schedules.map(
      (s) => new Sweeper(this, `Schedule${s.fn}`, { schedule: s, fn: fns[s.fn] }),
    );
    this.site.publishConfig({
      httpApi: this.http.url,
      wsApi: this.realtime.url,
      vapidPublicKey: this.vapidKeys.publicKey,
    });

    const [persister] = this.persisters;
    const [consumer] = kafkaConsumers;
    if (!persister || !consumer) throw new Error('the route table defines no Kafka consumer');
    this.observability = new Observability(this, 'Observability', {
      functions: fns,
      consumer: fns[consumer.fn],
      deadLetterQueue: persister.deadLetterQueue,
      httpApi: this.http.api,
      webSocketApi: this.realtime.api,
      webSocketStageName: this.realtime.stage.stageName,
      ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
    });

    acknowledgeCdkInternals(this, this.site.bucket.bucketArn);

    new CfnOutput(this, 'SiteUrl', { value: this.site.origin, description: 'The web app (CloudFront)' });
    new CfnOutput(this, 'WebSocketUrl', {
      value: this.realtime.url,
      description: 'wss:// endpoint for clients',
    });
    new CfnOutput(this, 'HttpApiUrl', { value: this.http.url, description: 'HTTP API base URL' });
    new CfnOutput(this, 'ManagementEndpoint', {
      value: this.realtime.callbackUrl,
      description: 'WebSocket @connections endpoint (WS_MANAGEMENT_ENDPOINT)',
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: persister.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'AttachmentsBucket', { value: this.attachments.bucket.bucketName });
    new CfnOutput(this, 'JwtKeysSecretArn', { value: this.jwtKeys.secret.secretArn });
    new CfnOutput(this, 'Profile', { value: config.profile });
  }
}
