import type { FunctionName } from '@chat/functions/routes';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { Synthesized } from './synth.ts';

export type CfnResource = { Type: string; Properties?: Record<string, unknown>; DependsOn?: unknown };

/** Resources of one type, by logical id. */
export function resourcesOfType(json: Synthesized['json'], type: string): [string, CfnResource][] {
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type) as [string, CfnResource][];
}

/** One of the site's BucketDeployments: its logical id, what it depends on, its properties. */
export interface SiteDeployment {
  id: string;
  dependsOn: string[];
  props: Record<string, unknown>;
}

/**
 * The site's BucketDeployments: `config` writes config.json (no prune, rendered from markers), `content` the
 * pages (pruned), `hashed` the content-hashed files (no prune; only when the web export exists).
 */
export function siteDeployments(
  json: Synthesized['json'],
): Record<'config' | 'content' | 'hashed', SiteDeployment | undefined> {
  const all = resourcesOfType(json, 'Custom::CDKBucketDeployment').map(
    ([id, r]): SiteDeployment => ({
      id,
      dependsOn: [r.DependsOn ?? []].flat() as string[],
      props: r.Properties ?? {},
    }),
  );
  return {
    config: all.find((d) => d.props.Prune === false && !d.props.Include),
    content: all.find((d) => d.props.Prune === true),
    hashed: all.find((d) => d.props.Prune === false && d.props.Include),
  };
}

export interface PolicyStatementJson {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every Allow statement of every inline policy attached (via Roles) to the role with this logical id. */
export function statementsOfRole(json: Synthesized['json'], roleLogicalId: string): PolicyStatementJson[] {
  const out: PolicyStatementJson[] = [];
  for (const [, r] of resourcesOfType(json, 'AWS::IAM::Policy')) {
    const roles = (r.Properties?.Roles as { Ref?: string }[] | undefined) ?? [];
    if (!roles.some((x) => x.Ref === roleLogicalId)) continue;
    const doc = r.Properties?.PolicyDocument as { Statement: PolicyStatementJson[] };
    out.push(...doc.Statement.filter((s) => s.Effect === 'Allow'));
  }
  return out;
}

export const actionsOf = (s: PolicyStatementJson): string[] =>
  Array.isArray(s.Action) ? s.Action : [s.Action];
export const resourcesOf = (s: PolicyStatementJson): unknown[] =>
  Array.isArray(s.Resource) ? s.Resource : [s.Resource];

/** The role logical id of the Lambda function with this logical id. */
export function roleOfFunction(json: Synthesized['json'], fnLogicalId: string): string {
  const fn = json.Resources[fnLogicalId];
  const role = (fn?.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
  if (!role) throw new Error(`${fnLogicalId} has no role`);
  return role;
}

/** A string or `Fn::Join` of the template, with `AWS::Region` (and `AWS::URLSuffix`) filled in. */
export function joinWithRegion(value: unknown, region: string): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`not a string or Fn::Join: ${JSON.stringify(value)}`);
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      if (ref === 'AWS::Region') return region;
      if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
      throw new Error(`unexpected part ${JSON.stringify(part)}`);
    })
    .join(join[0]);
}

/** The logical id of one function of the synthesized stack. */
export const functionLogicalId = (s: Synthesized, name: FunctionName): string =>
  s.stack.getLogicalId(s.stack.functions.byName[name].node.defaultChild as CfnFunction);

/** The Allow statements of one function's role. */
export const functionRoleStatements = (s: Synthesized, name: FunctionName): PolicyStatementJson[] =>
  statementsOfRole(s.json, roleOfFunction(s.json, functionLogicalId(s, name)));

/** One function's environment variables. */
export function functionEnv(s: Synthesized, name: FunctionName): Record<string, unknown> {
  const env = s.json.Resources[functionLogicalId(s, name)]?.Properties?.Environment as
    | { Variables?: Record<string, unknown> }
    | undefined;
  return env?.Variables ?? {};
}

/** Whether one function's role allows an action. */
export const functionHasAction = (s: Synthesized, name: FunctionName, action: string): boolean =>
  functionRoleStatements(s, name).some((st) => actionsOf(st).includes(action));
