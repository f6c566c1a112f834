import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CHECKS, formatChecklist, main, type PreflightClients, runPreflight } from '../scripts/preflight.ts';

/**
 * Responses in the shape of the SDK clients' outputs (field names as the SDK returns them; values
 * illustrative), keyed by command name; `$error` is thrown as the SDK throws a service exception. A quota
 * command's response may be keyed by QuotaCode. No network: the fake `send` answers from this table.
 */
type Recorded = Record<string, unknown>;
const ready = (): Recorded =>
  JSON.parse(readFileSync(new URL('./fixtures/preflight/ready-account.json', import.meta.url), 'utf8'));

function fakeClients(recorded: Recorded, sent: string[] = []): PreflightClients {
  const send = async (command: { constructor: { name: string }; input?: { QuotaCode?: string } }) => {
    const name = command.constructor.name;
    sent.push(name);
    let answer = recorded[name] as Record<string, unknown> | undefined;
    const code = command.input?.QuotaCode;
    if (answer && code && code in answer) answer = answer[code] as Record<string, unknown>;
    if (!answer) throw Object.assign(new Error(`no recorded response for ${name}`), { name: 'Unrecorded' });
    const error = answer.$error as { name: string; message: string } | undefined;
    if (error) throw Object.assign(new Error(error.message), { name: error.name });
    return answer;
  };
  // biome-ignore lint/suspicious/noExplicitAny: one fake send stands in for every SDK client's overloads
  const client = { send } as any;
  return {
    region: 'eu-west-1',
    sts: client,
    apiGateway: client,
    kafka: client,
    keyspaces: client,
    lambda: client,
    quotas: client,
  };
}

const byCheck = async (recorded: Recorded) =>
  Object.fromEntries((await runPreflight(fakeClients(recorded))).map((r) => [r.check, r]));

describe('When preflight runs against an account', () => {
  afterEach(() => vi.restoreAllMocks());

  it('ticks every check of a ready account, with the values that matter, making only read calls', async () => {
    const sent: string[] = [];
    const results = await runPreflight(fakeClients(ready(), sent));
    expect(results.map((r) => [r.check, r.status])).toEqual([
      ['AWS identity', 'ok'],
      ['API Gateway CloudWatch Logs role', 'ok'],
      ['MSK Serverless', 'ok'],
      ['Amazon Keyspaces', 'ok'],
      ['Lambda concurrent executions', 'ok'],
      ['Network interfaces and VPCs per Region', 'ok'],
      ['API Gateway WebSocket connections', 'ok'],
    ]);
    const text = formatChecklist(results);
    expect(text).toContain('[x] AWS identity: account 123456789012');
    expect(text).toMatch(/network interfaces 5000, VPCs 5/);
    expect(text).toMatch(/New connections per second per account \(WebSocket\): 500/);
    expect(text).not.toMatch(/Maximum number of APIs/);
    for (const name of new Set(sent)) expect(name).toMatch(/^(Get|List)/);
  });

  it('warns when the API Gateway account has no CloudWatch role and Lambda concurrency is a new account 10', async () => {
    const r = ready();
    r.GetAccountCommand = { throttleSettings: { burstLimit: 5000, rateLimit: 10000 } };
    r.GetAccountSettingsCommand = {
      AccountLimit: { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 },
    };
    const c = await byCheck(r);
    expect(c['API Gateway CloudWatch Logs role']).toMatchObject({ status: 'warn' });
    expect(c['API Gateway CloudWatch Logs role']?.detail).toMatch(/apiGatewayAccountRole=false/);
    expect(c['Lambda concurrent executions']).toMatchObject({ status: 'warn' });
    expect(c['Lambda concurrent executions']?.detail).toMatch(/L-B99A9384/);
  });

  it('fails when the keyspace of the stack already exists, or a service does not answer in the Region', async () => {
    const r = ready();
    r.GetKeyspaceCommand = {
      keyspaceName: 'chat',
      resourceArn: 'arn:aws:cassandra:eu-west-1:123456789012:/keyspace/chat/',
    };
    r.ListClustersV2Command = {
      $error: { name: 'UnknownEndpoint', message: 'Inaccessible host: kafka.xx-west-9.amazonaws.com' },
    };
    const c = await byCheck(r);
    expect(c['Amazon Keyspaces']).toMatchObject({ status: 'fail' });
    expect(c['Amazon Keyspaces']?.detail).toMatch(/"chat" already exists/);
    expect(c['MSK Serverless']).toMatchObject({ status: 'fail' });
    expect(c['MSK Serverless']?.detail).toMatch(/UnknownEndpoint/);
  });

  it('exits 1 on a failed check and 0 on a ready account', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(await main([], fakeClients(ready()))).toBe(0);
    const r = ready();
    r.GetKeyspaceCommand = { keyspaceName: 'chat' };
    expect(await main([], fakeClients(r))).toBe(1);
    expect(await main(['--stack-name', 'Chat-Staging'], fakeClients(ready()))).toBe(0);
    expect(log).toHaveBeenCalled();
  });

  it('without credentials says what it would check and exits 0', async () => {
    const r = ready();
    r.GetCallerIdentityCommand = {
      $error: { name: 'CredentialsProviderError', message: 'Could not load credentials from any providers' },
    };
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void lines.push(s));
    const sent: string[] = [];
    expect(await main([], fakeClients(r, sent))).toBe(0);
    expect(sent).toEqual(['GetCallerIdentityCommand']);
    for (const check of CHECKS) expect(lines.join('\n')).toContain(check);
  });
});
