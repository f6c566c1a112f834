/**
 * The API surface of a deployment, as the emulator runs it (`LocalRuntime.surface()`) or as a synthesized
 * CloudFormation template declares it (`templateSurface`), and `diffParity`, what differs between the two.
 * Pure: no I/O, no CDK import (the test that synthesizes the stack hands the JSON in).
 */

export interface WsRouteSurface {
  readonly routeKey: string;
  readonly fn: string;
  /** The route has a `$default` route response: the function's result goes back to the caller. */
  readonly returnResponse: boolean;
}

export interface HttpRouteSurface {
  readonly method: string;
  readonly path: string;
  readonly fn: string;
}

/** CORS as both sides can state it (allowed origins are per deployment: the CloudFront domain vs localhost). */
export interface CorsSurface {
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSeconds: number;
  readonly allowCredentials: boolean;
}

export interface KafkaMappingSurface {
  readonly fn: string;
  readonly topic: string;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly startingPosition: string;
  /** −1: retried until it succeeds or the records expire (AWS's default, and the emulator's). */
  readonly maximumRetryAttempts: number;
  /** The emulator never bisects (the handler dead-letters poison records itself). */
  readonly bisectBatchOnFunctionError: boolean;
}

export interface ScheduleSurface {
  readonly fn: string;
  /** EventBridge schedule expression, e.g. `rate(1 minute)`. */
  readonly expression: string;
}

export interface ApiSurface {
  readonly ws: { readonly routeSelectionExpression: string; readonly routes: readonly WsRouteSurface[] };
  readonly http: { readonly routes: readonly HttpRouteSurface[]; readonly cors: CorsSurface | undefined };
  readonly kafka: readonly KafkaMappingSurface[];
  readonly schedules: readonly ScheduleSurface[];
}

/** The EventBridge rate expression of a period, as CDK's `Schedule.rate` writes it. */
export const rateExpression = (everySeconds: number): string => {
  const unit = (n: number, name: string) => `rate(${n} ${name}${n === 1 ? '' : 's'})`;
  if (everySeconds % 86_400 === 0) return unit(everySeconds / 86_400, 'day');
  if (everySeconds % 3_600 === 0) return unit(everySeconds / 3_600, 'hour');
  if (everySeconds % 60 === 0) return unit(everySeconds / 60, 'minute');
  return `rate(${everySeconds} seconds)`; // not a valid EventBridge rate: shows as a difference
};

const sorted = (xs: readonly string[]): string[] => [...xs].map((x) => x.toUpperCase()).sort();

/** Compares by key: what only one side has, and what differs for a key both have. */
function diffByKey<T>(
  what: string,
  key: (x: T) => string,
  emulator: readonly T[],
  template: readonly T[],
): string[] {
  const out: string[] = [];
  const e = new Map(emulator.map((x) => [key(x), x]));
  const t = new Map(template.map((x) => [key(x), x]));
  for (const k of [...new Set([...e.keys(), ...t.keys()])].sort()) {
    const a = e.get(k);
    const b = t.get(k);
    if (!b) out.push(`${what} ${k}: only in the emulator`);
    else if (!a) out.push(`${what} ${k}: only in the template`);
    else {
      for (const field of Object.keys({ ...a, ...b }) as (keyof T)[]) {
        const x = JSON.stringify(a[field]);
        const y = JSON.stringify(b[field]);
        if (x !== y) out.push(`${what} ${k}: ${String(field)} is ${x} in the emulator, ${y} in the template`);
      }
    }
  }
  if (emulator.length !== e.size) out.push(`${what}: duplicate keys in the emulator`);
  if (template.length !== t.size) out.push(`${what}: duplicate keys in the template`);
  return out;
}

/** Every difference between what the emulator runs and what the template deploys; empty when they agree. */
export function diffParity(emulator: ApiSurface, template: ApiSurface): string[] {
  const out: string[] = [];
  if (emulator.ws.routeSelectionExpression !== template.ws.routeSelectionExpression) {
    out.push(
      `WebSocket route selection expression is ${emulator.ws.routeSelectionExpression} in the emulator, ` +
        `${template.ws.routeSelectionExpression} in the template`,
    );
  }
  out.push(...diffByKey('WebSocket route', (r) => r.routeKey, emulator.ws.routes, template.ws.routes));
  out.push(
    ...diffByKey('HTTP route', (r) => `${r.method} ${r.path}`, emulator.http.routes, template.http.routes),
  );
  const ec = emulator.http.cors;
  const tc = template.http.cors;
  if (!ec !== !tc) out.push(`HTTP API CORS: ${ec ? 'only in the emulator' : 'only in the template'}`);
  else if (ec && tc) {
    const norm = (c: CorsSurface) => ({
      ...c,
      allowMethods: sorted(c.allowMethods),
      allowHeaders: sorted(c.allowHeaders),
      exposeHeaders: sorted(c.exposeHeaders),
    });
    out.push(...diffByKey('HTTP API CORS', () => 'configuration', [norm(ec)], [norm(tc)]));
  }
  out.push(
    ...diffByKey('Kafka event source mapping', (m) => `${m.fn} ← ${m.topic}`, emulator.kafka, template.kafka),
  );
  out.push(...diffByKey('schedule', (s) => s.fn, emulator.schedules, template.schedules));
  return out;
}

// ---------------------------------------------------------------- the template's side

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface TemplateJson {
  readonly Resources: Readonly<Record<string, CfnResource>>;
}

/** Every `{ Ref: id }` and `{ 'Fn::GetAtt': [id, …] }` target inside a CloudFormation value. */
const referencedIds = (value: unknown, out: string[] = []): string[] => {
  if (Array.isArray(value)) for (const v of value) referencedIds(v, out);
  else if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.Ref === 'string') out.push(o.Ref);
    const att = o['Fn::GetAtt'];
    if (Array.isArray(att) && typeof att[0] === 'string') out.push(att[0]);
    for (const v of Object.values(o)) referencedIds(v, out);
  }
  return out;
};

/**
 * The surface a synthesized template declares. `functionNames` maps each Lambda function's logical id to its
 * route-table name; a target that is no known function is reported by name as `?<logical id>`.
 */
export function templateSurface(
  json: TemplateJson,
  functionNames: Readonly<Record<string, string>>,
): ApiSurface {
  const resources = Object.entries(json.Resources);
  const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
  const fnOf = (value: unknown): string => {
    const ids = referencedIds(value);
    const id = ids.find((i) => functionNames[i] !== undefined);
    return id ? (functionNames[id] as string) : `?${ids.join(',')}`;
  };
  const integrationFn = (target: unknown): string => {
    const id = referencedIds(target).find(
      (i) => json.Resources[i]?.Type === 'AWS::ApiGatewayV2::Integration',
    );
    return id ? fnOf(json.Resources[id]?.Properties?.IntegrationUri) : `?${JSON.stringify(target)}`;
  };

  const apis = ofType('AWS::ApiGatewayV2::Api');
  const wsApi = apis.find(([, r]) => r.Properties?.ProtocolType === 'WEBSOCKET');
  const httpApi = apis.find(([, r]) => r.Properties?.ProtocolType === 'HTTP');
  const routesOf = (apiId: string | undefined) =>
    ofType('AWS::ApiGatewayV2::Route').filter(([, r]) =>
      referencedIds(r.Properties?.ApiId).includes(apiId ?? ''),
    );
  const withResponse = new Set(
    ofType('AWS::ApiGatewayV2::RouteResponse')
      .filter(([, r]) => r.Properties?.RouteResponseKey === '$default')
      .flatMap(([, r]) => referencedIds(r.Properties?.RouteId)),
  );

  const wsRoutes = routesOf(wsApi?.[0]).map(([id, r]) => ({
    routeKey: String(r.Properties?.RouteKey),
    fn: integrationFn(r.Properties?.Target),
    returnResponse: withResponse.has(id) && r.Properties?.RouteResponseSelectionExpression === '$default',
  }));
  const httpRoutes = routesOf(httpApi?.[0]).map(([, r]) => {
    const [method = '', path = ''] = String(r.Properties?.RouteKey).split(' ');
    return { method, path, fn: integrationFn(r.Properties?.Target) };
  });
  const c = httpApi?.[1].Properties?.CorsConfiguration as
    | {
        AllowMethods?: string[];
        AllowHeaders?: string[];
        ExposeHeaders?: string[];
        MaxAge?: number;
        AllowCredentials?: boolean;
      }
    | undefined;
  const cors: CorsSurface | undefined = c && {
    allowMethods: c.AllowMethods ?? [],
    allowHeaders: c.AllowHeaders ?? [],
    exposeHeaders: c.ExposeHeaders ?? [],
    maxAgeSeconds: c.MaxAge ?? 0,
    allowCredentials: c.AllowCredentials ?? false,
  };

  const kafka = ofType('AWS::Lambda::EventSourceMapping').flatMap(([, r]) => {
    const p = r.Properties ?? {};
    return ((p.Topics as string[] | undefined) ?? []).map((topic) => ({
      fn: fnOf(p.FunctionName),
      topic,
      batchSize: Number(p.BatchSize ?? 100),
      batchingWindowSeconds: Number(p.MaximumBatchingWindowInSeconds ?? 0),
      startingPosition: String(p.StartingPosition),
      maximumRetryAttempts: Number(p.MaximumRetryAttempts ?? -1),
      bisectBatchOnFunctionError: p.BisectBatchOnFunctionError === true,
    }));
  });
  const schedules = ofType('AWS::Events::Rule')
    .filter(([, r]) => typeof r.Properties?.ScheduleExpression === 'string')
    .flatMap(([, r]) =>
      ((r.Properties?.Targets as { Arn: unknown }[] | undefined) ?? []).map((t) => ({
        fn: fnOf(t.Arn),
        expression: String(r.Properties?.ScheduleExpression),
      })),
    );

  return {
    ws: {
      routeSelectionExpression: String(wsApi?.[1].Properties?.RouteSelectionExpression),
      routes: wsRoutes,
    },
    http: { routes: httpRoutes, cors },
    kafka,
    schedules,
  };
}
