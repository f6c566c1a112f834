/**
 * `npm run preflight [-- --stack-name Chat]`: read-only checks of the target account and Region before a
 * first `cdk deploy`, printed as a checklist. It changes nothing (Get/List calls only). Without AWS
 * credentials it prints what it would check and exits 0; with them it exits 1 when a check fails (the deploy
 * would fail), 0 otherwise (warnings included).
 *
 * Checks: who you are; the API Gateway account's CloudWatch Logs role (the WebSocket stage logs through it);
 * MSK Serverless and Amazon Keyspaces answering in the Region; a keyspace left behind by an earlier stack of
 * the same name (retained on destroy: the create would fail); and the quotas that matter: Lambda concurrent
 * executions, network interfaces and VPCs per Region, API Gateway WebSocket connections.
 */

import { pathToFileURL } from 'node:url';
import { APIGatewayClient, GetAccountCommand } from '@aws-sdk/client-api-gateway';
import { KafkaClient, ListClustersV2Command } from '@aws-sdk/client-kafka';
import { GetKeyspaceCommand, KeyspacesClient } from '@aws-sdk/client-keyspaces';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ListAWSDefaultServiceQuotasCommand,
  ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { parseCommandLine, usageFailure } from '@chat/kit/cli';
import { keyspaceNameFor } from '../lib/config.ts';

/** The AWS calls preflight makes: one `send` per SDK client (the tests pass recorded responses instead). */
export interface PreflightClients {
  readonly region: string;
  readonly sts: { send(command: GetCallerIdentityCommand): Promise<{ Account?: string; Arn?: string }> };
  readonly apiGateway: { send(command: GetAccountCommand): Promise<{ cloudwatchRoleArn?: string }> };
  readonly kafka: { send(command: ListClustersV2Command): Promise<{ ClusterInfoList?: unknown[] }> };
  readonly keyspaces: { send(command: GetKeyspaceCommand): Promise<{ keyspaceName?: string }> };
  readonly lambda: {
    send(command: GetAccountSettingsCommand): Promise<{
      AccountLimit?: { ConcurrentExecutions?: number; UnreservedConcurrentExecutions?: number };
    }>;
  };
  readonly quotas: {
    send(
      command: GetServiceQuotaCommand | GetAWSDefaultServiceQuotaCommand | ListAWSDefaultServiceQuotasCommand,
    ): Promise<{
      Quota?: { QuotaName?: string; Value?: number };
      Quotas?: { QuotaName?: string; QuotaCode?: string; Value?: number }[];
      NextToken?: string;
    }>;
  };
}

export type Status = 'ok' | 'warn' | 'fail';
export interface CheckResult {
  readonly check: string;
  readonly status: Status;
  readonly detail: string;
}

/** What preflight checks, in order (also what it prints without credentials). */
export const CHECKS = [
  'AWS identity (sts:GetCallerIdentity)',
  'API Gateway account CloudWatch Logs role (apigateway:GET /account)',
  'MSK Serverless in the Region (kafka:ListClustersV2, serverless)',
  'Amazon Keyspaces in the Region, and no keyspace left by an earlier stack (cassandra:Select on the keyspace)',
  'Lambda concurrent executions (lambda:GetAccountSettings)',
  'Network interfaces and VPCs per Region (servicequotas: vpc L-DF5E4CA3, L-F678F1CE)',
  'API Gateway WebSocket connection quotas (servicequotas: apigateway)',
] as const;

/** Lambda: the default account limit is 1000; new accounts often start at 10, too few for this stack. */
export const MIN_LAMBDA_CONCURRENCY = 100;

const errorName = (e: unknown): string => (e as { name?: string })?.name ?? 'Error';
const errorText = (e: unknown): string => `${errorName(e)}: ${(e as Error)?.message ?? String(e)}`;

async function quota(
  q: PreflightClients['quotas'],
  ServiceCode: string,
  QuotaCode: string,
): Promise<{ name: string; value: number } | undefined> {
  try {
    const r = await q.send(new GetServiceQuotaCommand({ ServiceCode, QuotaCode }));
    if (r.Quota?.Value !== undefined) return { name: r.Quota.QuotaName ?? QuotaCode, value: r.Quota.Value };
  } catch (e) {
    if (errorName(e) !== 'NoSuchResourceException') throw e;
  }
  // Never raised in this account: the AWS default applies.
  const d = await q.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode, QuotaCode }));
  return d.Quota?.Value === undefined
    ? undefined
    : { name: d.Quota.QuotaName ?? QuotaCode, value: d.Quota.Value };
}

/** Runs every check; a check that errors is reported as failed (or as a warning where it only informs). */
export async function runPreflight(c: PreflightClients, stackName = 'Chat'): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const check = async (name: string, fn: () => Promise<Omit<CheckResult, 'check'>>, onError: Status) => {
    try {
      out.push({ check: name, ...(await fn()) });
    } catch (e) {
      out.push({ check: name, status: onError, detail: errorText(e) });
    }
  };

  await check(
    'AWS identity',
    async () => {
      const id = await c.sts.send(new GetCallerIdentityCommand({}));
      return { status: 'ok', detail: `account ${id.Account}, ${id.Arn}, Region ${c.region}` };
    },
    'fail',
  );

  await check(
    'API Gateway CloudWatch Logs role',
    async () => {
      const account = await c.apiGateway.send(new GetAccountCommand({}));
      return account.cloudwatchRoleArn
        ? {
            status: 'ok',
            detail:
              `set (${account.cloudwatchRoleArn}); the stack replaces it with its own unless ` +
              '-c apiGatewayAccountRole=false (then access logs need -c accessLogging=true)',
          }
        : {
            status: 'warn',
            detail:
              'not set: the stack sets it (AWS::ApiGateway::Account); if your organization forbids that, deploy ' +
              'with -c apiGatewayAccountRole=false (WebSocket access logs then stay off)',
          };
    },
    'fail',
  );

  await check(
    'MSK Serverless',
    async () => {
      const r = await c.kafka.send(
        new ListClustersV2Command({ ClusterTypeFilter: 'SERVERLESS', MaxResults: 1 }),
      );
      return {
        status: 'ok',
        detail: `the MSK API answers for serverless clusters (${r.ClusterInfoList?.length ?? 0} listed); the lean profile needs none`,
      };
    },
    'fail',
  );

  const keyspace = keyspaceNameFor(stackName);
  await check(
    'Amazon Keyspaces',
    async () => {
      try {
        await c.keyspaces.send(new GetKeyspaceCommand({ keyspaceName: keyspace }));
      } catch (e) {
        if (errorName(e) === 'ResourceNotFoundException')
          return { status: 'ok', detail: `available; keyspace "${keyspace}" does not exist yet` };
        throw e;
      }
      return {
        status: 'fail',
        detail:
          `keyspace "${keyspace}" already exists (kept by an earlier "${stackName}" stack?): the create would ` +
          'fail. Drop it, or deploy with -c keyspace=<another name> or another -c stackName',
      };
    },
    'fail',
  );

  await check(
    'Lambda concurrent executions',
    async () => {
      const r = await c.lambda.send(new GetAccountSettingsCommand({}));
      const limit = r.AccountLimit?.ConcurrentExecutions ?? 0;
      const unreserved = r.AccountLimit?.UnreservedConcurrentExecutions ?? 0;
      return limit >= MIN_LAMBDA_CONCURRENCY
        ? { status: 'ok', detail: `${limit} (unreserved ${unreserved})` }
        : {
            status: 'warn',
            detail: `${limit} (unreserved ${unreserved}): below ${MIN_LAMBDA_CONCURRENCY}, sends and pushes will be throttled; request an increase (Service Quotas L-B99A9384)`,
          };
    },
    'fail',
  );

  await check(
    'Network interfaces and VPCs per Region',
    async () => {
      const enis = await quota(c.quotas, 'vpc', 'L-DF5E4CA3');
      const vpcs = await quota(c.quotas, 'vpc', 'L-F678F1CE');
      return {
        status: 'ok',
        detail:
          `network interfaces ${enis?.value ?? '?'}, VPCs ${vpcs?.value ?? '?'}: the stack adds 1 VPC and about ` +
          '2 ENIs per subnet for the functions, 1 per AZ per interface endpoint, plus the cache and MSK',
      };
    },
    'warn',
  );

  await check(
    'API Gateway WebSocket connections',
    async () => {
      const found: { QuotaName?: string; Value?: number }[] = [];
      let NextToken: string | undefined;
      do {
        const page = await c.quotas.send(
          new ListAWSDefaultServiceQuotasCommand({
            ServiceCode: 'apigateway',
            ...(NextToken ? { NextToken } : {}),
          }),
        );
        found.push(...(page.Quotas ?? []).filter((q) => /connection/i.test(q.QuotaName ?? '')));
        NextToken = page.NextToken;
      } while (NextToken);
      if (found.length === 0) return { status: 'warn', detail: 'no connection quota listed for apigateway' };
      return { status: 'ok', detail: found.map((q) => `${q.QuotaName}: ${q.Value}`).join('; ') };
    },
    'warn',
  );
  return out;
}

const MARK: Record<Status, string> = { ok: '[x]', warn: '[!]', fail: '[ ]' };

/** The checklist as printed. */
export function formatChecklist(results: readonly CheckResult[]): string {
  return results.map((r) => `${MARK[r.status]} ${r.check}: ${r.detail}`).join('\n');
}

/** True when the SDK found no credentials (or no Region): preflight then only says what it would check. */
export function isMissingCredentials(e: unknown): boolean {
  const name = errorName(e);
  const message = String((e as Error)?.message ?? '');
  return name === 'CredentialsProviderError' || /credential|Region is missing/i.test(message);
}

function realClients(region: string | undefined): PreflightClients {
  const opts = region ? { region } : {};
  return {
    region: region ?? '(SDK default)',
    sts: new STSClient(opts),
    apiGateway: new APIGatewayClient(opts),
    kafka: new KafkaClient(opts),
    keyspaces: new KeyspacesClient(opts),
    lambda: new LambdaClient(opts),
    quotas: new ServiceQuotasClient(opts),
  };
}

const USAGE = `usage: npm run preflight -- [--stack-name Chat]
  --stack-name  the stack to deploy (default Chat): the keyspace an earlier stack of that name left is checked`;

/** The checks, as `npm run preflight` runs them; a mistaken flag prints one line and the usage, and exits 2. */
export async function main(argv: readonly string[], clients?: PreflightClients): Promise<number> {
  const { values } = parseCommandLine(
    { args: [...argv], options: { 'stack-name': { type: 'string', default: 'Chat' } } },
    usageFailure('preflight', USAGE),
  );
  const stackName = values['stack-name'] ?? 'Chat';
  const c = clients ?? realClients(process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION);
  try {
    await c.sts.send(new GetCallerIdentityCommand({}));
  } catch (e) {
    if (!isMissingCredentials(e)) throw e;
    console.log(
      `No AWS credentials (or no Region): nothing checked. With credentials, preflight checks, read-only:\n${CHECKS.map(
        (x) => `[ ] ${x}`,
      ).join('\n')}`,
    );
    return 0;
  }
  const results = await runPreflight(c, stackName);
  console.log(formatChecklist(results));
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
