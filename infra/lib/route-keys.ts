/**
 * The route keys a synthesized template defines, for parity tests (template routes == route table ==
 * emulator routes). Works on the plain CloudFormation JSON, so it needs no CDK objects.
 */
type Template = { Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }> };

export interface TemplateRouteKeys {
  /** WebSocket route keys (`$connect`, `sendMessage`, …), sorted. */
  readonly ws: string[];
  /** HTTP route keys (`GET /conversations/{id}`, …), sorted. */
  readonly http: string[];
}

/** API ids are `{ Ref: <logical id> }` in the template: map each route to its API's protocol. */
export function templateRouteKeys(template: Template): TemplateRouteKeys {
  const resources = template.Resources ?? {};
  const protocolOf = new Map<string, string>();
  for (const [logicalId, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::ApiGatewayV2::Api') protocolOf.set(logicalId, String(r.Properties?.ProtocolType));
  }
  const ws: string[] = [];
  const http: string[] = [];
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::ApiGatewayV2::Route') continue;
    const apiRef = (r.Properties?.ApiId as { Ref?: string } | undefined)?.Ref;
    const key = String(r.Properties?.RouteKey);
    const protocol = apiRef ? protocolOf.get(apiRef) : undefined;
    if (protocol === 'WEBSOCKET') ws.push(key);
    else if (protocol === 'HTTP') http.push(key);
    else throw new Error(`route ${key} belongs to no API of the template`);
  }
  return { ws: ws.sort(), http: http.sort() };
}
