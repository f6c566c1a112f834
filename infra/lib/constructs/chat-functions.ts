import type { BackingService, FunctionDef, FunctionName } from '@chat/functions/routes';
import { functionDefs } from '@chat/functions/routes';
import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { Attachments } from './attachments.ts';
import type { Cache } from './cache.ts';
import { ChatFunction } from './chat-function.ts';
import type { Database } from './database.ts';
import type { JwtKeys } from './jwt-keys.ts';
import type { RealtimeApi } from './realtime-api.ts';
import type { Streaming } from './streaming.ts';
import type { VapidKeys } from './vapid-keys.ts';

/** Registers the Keyspaces SigV4 auth provider with the CQL client when imported. */
export const KEYSPACES_AUTH_MODULE = 'adapters/cql/keyspaces-auth.ts';

export interface ChatFunctionsProps {
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly cache: Cache;
  readonly database: Database;
  readonly streaming: Streaming;
  readonly realtime: RealtimeApi;
  readonly jwtKeys: JwtKeys;
  readonly attachments: Attachments;
  /** (issue 15) The Web Push VAPID keys, and what the push sender needs besides (subject, endpoint allowlist). */
  readonly webPush: { readonly keys: VapidKeys; readonly subject: string };
  /** Variables every function gets (LOG_LEVEL, WEB_ORIGIN, …). */
  readonly environment: Readonly<Record<string, string>>;
  /** TEST ONLY, see ChatFunctionProps.stubMissingEntry. */
  readonly stubMissingEntries?: boolean;
}

/**
 * One ChatFunction per `functionDefs` entry of the route table. What a function may touch follows its `uses`
 * and nothing else: the environment variables of each backing service (names from functions/src/lib/config.ts)
 * and the matching grant. All of them run in the VPC (every one uses Redis, which lives there).
 */
export class ChatFunctions extends Construct {
  public readonly byName: Readonly<Record<FunctionName, ChatFunction>>;

  constructor(scope: Construct, id: string, props: ChatFunctionsProps) {
    super(scope, id);
    const envOf: Record<BackingService, Readonly<Record<string, string>>> = {
      redis: { REDIS_URL: props.cache.redisUrl },
      cql: props.database.environment,
      kafkaProduce: props.streaming.environment,
      push: { WS_MANAGEMENT_ENDPOINT: props.realtime.callbackUrl },
      jwtSign: { JWT_KEYS_SECRET_ARN: props.jwtKeys.secret.secretArn },
      jwtVerify: { JWT_PUBLIC_KEYS_SECRET_ARN: props.jwtKeys.publicSecret.secretArn },
      attachmentsUpload: props.attachments.environment,
      attachmentsAttach: props.attachments.environment,
      attachmentsRead: props.attachments.environment,
      webPush: {
        VAPID_KEYS_SECRET_ARN: props.webPush.keys.secret.secretArn,
        VAPID_SUBJECT: props.webPush.subject,
      },
    };
    const grant: Record<BackingService, (fn: ChatFunction) => void> = {
      redis: () => undefined, // network access: the cache's security group admits the functions' group
      cql: (fn) => props.database.grantReadWrite(fn),
      kafkaProduce: (fn) => props.streaming.grantProduce(fn),
      push: (fn) => props.realtime.grantPush(fn),
      jwtSign: (fn) => props.jwtKeys.grantSign(fn),
      jwtVerify: (fn) => props.jwtKeys.grantVerify(fn),
      attachmentsUpload: (fn) => props.attachments.grantUpload(fn),
      attachmentsAttach: (fn) => props.attachments.grantAttach(fn),
      attachmentsRead: (fn) => props.attachments.grantRead(fn),
      // Egress to the push services: the functions' private subnets route to the internet through the NAT.
      webPush: (fn) => props.webPush.keys.grantRead(fn),
    };

    const byName = {} as Record<FunctionName, ChatFunction>;
    for (const [name, def] of Object.entries(functionDefs) as [FunctionName, FunctionDef][]) {
      const environment: Record<string, string> = { ...props.environment };
      for (const use of def.uses) Object.assign(environment, envOf[use]);
      const fn = new ChatFunction(this, name, {
        entry: def.entry,
        description: def.description,
        timeout: Duration.seconds(def.timeoutSeconds),
        memorySize: def.memoryMb,
        environment,
        vpc: props.vpc,
        securityGroups: [props.securityGroup],
        stubMissingEntry: props.stubMissingEntries ?? false,
        // Keyspaces needs the SigV4 authenticator registered with the CQL client before the first query.
        ...(def.uses.includes('cql') && props.database.keyspace ? { inject: [KEYSPACES_AUTH_MODULE] } : {}),
      });
      for (const use of def.uses) grant[use](fn);
      if (def.uses.includes('jwtSign') || def.uses.includes('jwtVerify')) {
        fn.node.addDependency(props.jwtKeys.resource);
      }
      if (def.uses.includes('webPush')) fn.node.addDependency(props.webPush.keys.resource);
      if (def.uses.includes('kafkaProduce')) fn.node.addDependency(props.streaming.topicsResource);
      byName[name] = fn;
    }
    this.byName = byName;
  }
}
