import type { Synthesized } from './synth.ts';

export type CfnResource = { Type: string; Properties?: Record<string, unknown>; DependsOn?: unknown };

/** Resources of one type, by logical id. */
export function resourcesOfType(json: Synthesized['json'], type: string): [string, CfnResource][] {
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type) as [string, CfnResource][];
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
