/**
 * The esbuild options every function bundle is built with, on AWS (the CDK house function, infra/) and locally
 * (the local platform's Lambda runtime, local/). One module so the two cannot drift: the code that runs on a
 * laptop is bundled exactly like the code `cdk deploy` uploads.
 */

/**
 * ESM bundles of CommonJS dependencies (ioredis, kafkajs, cassandra-driver) call `require` for Node built-ins;
 * this banner gives ESM bundles a real `require`, `__filename` and `__dirname`.
 */
export const ESM_REQUIRE_BANNER =
  "import{createRequire as __cr}from'node:module';import{fileURLToPath as __fu}from'node:url';import{dirname as __dn}from'node:path';const require=__cr(import.meta.url);const __filename=__fu(import.meta.url);const __dirname=__dn(__filename);";

export const functionBundleOptions = {
  format: 'esm',
  platform: 'node',
  /**
   * Syntax target. The Lambda runtime is Node 24 but the code uses no API newer than Node 20, and the local
   * runtime runs on Node 20: one target, so both places run the same bytes.
   */
  target: 'node20',
  minify: true,
  /**
   * Libraries name their errors after their constructors (cassandra-driver: `this.name =
   * this.constructor.name`, ioredis likewise): minified names would turn NoHostAvailableError into `e` and
   * hide an outage as a bug (adapters/outage.ts tells them apart by name).
   */
  keepNames: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  /**
   * Nothing external: the AWS SDK v3 clients are bundled at the lock file's versions rather than taken from
   * the runtime's preinstalled copy, so what was tested is what runs.
   */
  external: [] as readonly string[],
  banner: ESM_REQUIRE_BANNER,
} as const;
