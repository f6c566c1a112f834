/**
 * `npm start`: the whole product on this machine.
 *
 * 1. Services: Redis, Kafka and Cassandra through the services manager (reused when already running, else
 *    started; schema and topics applied). They keep running after this process ends (`npm run services -- down`).
 * 2. The local runtime: the Lambda handlers behind the WebSocket API (+ management API) on :8080, the HTTP API
 *    on :8081, the Kafka event source mapping and the schedules.
 * 3. The web client's static export on :3000, built first when it is missing or older than its sources.
 * 4. Two demo accounts (alice, bob) with a DM between them, through the public HTTP API; their credentials
 *    are printed, so a newcomer chats within a minute.
 *
 * Options (env): WS_PORT, HTTP_PORT, WEB_PORT, WEB_ORIGIN, DEPLOYMENT_ID (default `default`: the contract's
 * topic names and no Redis key prefix; another id runs a second copy beside it on its own topics and keys),
 * LAMBDA_IDLE_TTL_SEC (600: execution environments idle this long are reclaimed; the bench's full profile uses
 * 30), and `--watch` (or WATCH=1) to redeploy the functions when functions/src changes, `--no-web` to skip the
 * web server.
 */
import { watch } from 'node:fs';
import { join } from 'node:path';
import { ENV } from '@chat/functions/env';
import { ensureLocalKeys, ensureLocalVapidKeys } from '@chat/functions/operations';
import { parseCommandLine, usageFailure } from '@chat/kit/cli';
import { DEFAULT_DEPLOYMENT, type LocalRuntime, repoRoot, startLocalRuntime } from './runtime/index.ts';
import { formatCredentials, type SeedResult, seedDemo } from './seed.ts';
import { ensureServices } from './services/index.ts';
import { buildWebIfStale, startWebServer, type WebServer } from './web-server.ts';

const USAGE = `usage: npm start [-- --watch] [-- --no-web] [-- --verbose]
  --watch    redeploy the functions when functions/src changes (also WATCH=1)
  --no-web   do not serve the web client
  --verbose  print every invocation's START/END/REPORT and every WebSocket CONNECT/DISCONNECT (also
             LOCAL_VERBOSE=1); by default a one-line summary every 5 s
  env: WS_PORT (8080), HTTP_PORT (8081), WEB_PORT (3000), WEB_ORIGIN, DEPLOYMENT_ID (default),
       LAMBDA_IDLE_TTL_SEC (600: an execution environment idle this long is reclaimed)`;

const { values: args } = parseCommandLine(
  {
    options: {
      watch: { type: 'boolean' },
      'no-web': { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  },
  usageFailure('npm start', USAGE),
);
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const wsPort = Number(process.env.WS_PORT ?? 8080);
const httpPort = Number(process.env.HTTP_PORT ?? 8081);
const webPort = Number(process.env.WEB_PORT ?? 3000);
const watchMode = args.watch === true || process.env.WATCH === '1';
const deploymentId = process.env.DEPLOYMENT_ID || DEFAULT_DEPLOYMENT;
const idleTtlSec = process.env.LAMBDA_IDLE_TTL_SEC ? Number(process.env.LAMBDA_IDLE_TTL_SEC) : undefined;
if (idleTtlSec !== undefined && !(Number.isFinite(idleTtlSec) && idleTtlSec > 0)) {
  console.error(
    `LAMBDA_IDLE_TTL_SEC must be a positive number of seconds, got ${process.env.LAMBDA_IDLE_TTL_SEC}`,
  );
  process.exit(2);
}

const main = async (): Promise<void> => {
  const t0 = Date.now();
  const { env: serviceEnv } = await ensureServices();
  for (const [k, v] of Object.entries(serviceEnv)) process.env[k] ??= v;

  // The browser may open the site as localhost or 127.0.0.1: both are this machine's web origin.
  process.env[ENV.WEB_ORIGIN] ??= [`http://localhost:${webPort}`, `http://127.0.0.1:${webPort}`].join(',');

  // JWT signing keys: generated into the ignored state folder on the first start, reused afterwards.
  const keys = await ensureLocalKeys();
  if (keys.created) console.log(`Generated the local JWT signing keys in ${keys.file}`);

  const rt: LocalRuntime = await startLocalRuntime({
    wsPort,
    httpPort,
    env: serviceEnv,
    deploymentId,
    ...(idleTtlSec !== undefined ? { idleEnvironmentTtlMs: idleTtlSec * 1000 } : {}),
    log: args.verbose === true || process.env.LOCAL_VERBOSE === '1' ? 'verbose' : 'summary',
  });
  // Web Push (issue 15): the local VAPID key pair (made on first use), its public key in config.json.
  const vapid = await ensureLocalVapidKeys();
  const endpoints = {
    httpApi: `http://localhost:${rt.httpPort}`,
    wsApi: `ws://localhost:${rt.wsPort}`,
  };

  let web: WebServer | undefined;
  if (!args['no-web']) {
    const built = buildWebIfStale();
    if (built > 0) console.log(`Built the web client in ${(built / 1000).toFixed(1)}s`);
    // the attachments' S3 origin goes into the page's CSP (uploads PUT straight to it; thumbnails load from it)
    const s3 = serviceEnv[ENV.S3_ENDPOINT];
    web = await startWebServer({
      port: webPort,
      config: {
        ...endpoints,
        vapidPublicKey: vapid.publicKey,
        ...(s3 ? { attachmentsOrigin: new URL(s3).origin } : {}),
      },
    });
  }

  let seed: SeedResult | undefined;
  try {
    seed = await seedDemo(endpoints);
  } catch (e) {
    console.warn(`Could not seed the demo accounts: ${e instanceof Error ? e.message : e}`);
  }

  let watcher: ReturnType<typeof watch> | undefined;
  if (watchMode) {
    let timer: NodeJS.Timeout | undefined;
    watcher = watch(join(repoRoot, 'functions/src'), { recursive: true }, () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        rt.reload().catch((e: unknown) =>
          console.error(`[runtime] rebuild failed: ${e instanceof Error ? e.message : e}`),
        );
      }, 300);
    });
  }

  const line = (label: string, value: string) => console.log(`  ${label.padEnd(16)} ${value}`);
  console.log(`\nLocal chat is up in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
  line('Web', web ? `http://localhost:${web.port}` : 'not served (--no-web)');
  line('HTTP API', endpoints.httpApi);
  line('WebSocket API', `${endpoints.wsApi}/?ticket=<ticket>`);
  line('Management API', `${rt.managementEndpoint}/@connections/{connectionId}`);
  const prefix = rt.env[ENV.REDIS_KEY_PREFIX];
  line('Deployment', rt.deploymentId);
  line('Redis', `${serviceEnv[ENV.REDIS_URL] ?? ''}${prefix ? ` (key prefix ${prefix})` : ''}`);
  line(
    'Kafka',
    `${serviceEnv[ENV.KAFKA_BROKERS] ?? ''} (topics ${rt.env[ENV.KAFKA_TOPIC_MESSAGES]}, ${rt.env[ENV.KAFKA_TOPIC_NOTIFICATIONS]}, ${rt.env[ENV.KAFKA_TOPIC_DLQ]})`,
  );
  line(
    'CQL',
    `${serviceEnv[ENV.CQL_CONTACT_POINTS]}:${serviceEnv[ENV.CQL_PORT]} (keyspace ${serviceEnv[ENV.CQL_KEYSPACE]})`,
  );
  line('S3', `${serviceEnv[ENV.S3_ENDPOINT] ?? ''} (bucket ${rt.env[ENV.ATTACHMENTS_BUCKET]})`);
  line('Functions', rt.functions.join(', '));
  if (watchMode) line('Watching', 'functions/src (redeploys on change)');
  if (seed)
    console.log(`\n${formatCredentials(seed.accounts, web ? `http://localhost:${web.port}` : undefined)}`);
  console.log(
    '\nCtrl-C stops the runtime; the services keep running (npm run services -- down stops them).\n',
  );

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    watcher?.close();
    await Promise.allSettled([rt.stop(), web?.close()]);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
};

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
