/**
 * S3: Versity Gateway (`versitygw`, Apache-2.0, Go), serving the S3 API over a plain directory (`posix` backend)
 * on loopback. It verifies SigV4 signatures, presigned URLs included: a PUT whose Content-Type or Content-Length
 * differs from the signed one is refused with 403, as on AWS (docs/local-runtime.md lists what it does not do).
 *
 * Installed by the project itself: `go install github.com/versity/versitygw/cmd/versitygw@<version>` from the Go
 * module proxy into the shared download cache (`~/.cache/chat-local/versitygw-<version>/`), once per machine (a
 * few minutes); fresh clones reuse it. Needs `go` on PATH the first time only.
 *
 * Root credentials: generated on first use into the shared cache (`~/.cache/chat-local/conf/s3/credentials.json`,
 * mode 0600, never in the repo), given to the server through its environment and to the functions as
 * S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY. Per machine user, not per clone: every clone reuses the one server on
 * :9000 (as it reuses Redis, Kafka and Cassandra), so every clone must sign with that server's keys.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { listBuckets } from '@chat/functions/operations';
import { defaultCacheDir, ensureDir, runLogged, spawnDetached, which, withLock } from './support.ts';
import {
  type Addresses,
  type Context,
  type Driver,
  dataDir,
  type Health,
  logFile,
  logsDir,
} from './types.ts';

export const VERSITYGW_VERSION = 'v1.8.0';
const MODULE = 'github.com/versity/versitygw/cmd/versitygw';
/** The region the local server answers for (SigV4 scopes must name it). */
export const S3_LOCAL_REGION = 'us-east-1';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * The local S3 server's root credentials: S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY when set (an S3 server of your
 * own), else the ones generated once into the shared cache folder (one set per machine user, for all clones).
 */
export function s3Credentials(cacheDir: string = defaultCacheDir()): S3Credentials {
  const id = process.env.S3_ACCESS_KEY_ID;
  const secret = process.env.S3_SECRET_ACCESS_KEY;
  if (id && secret) return { accessKeyId: id, secretAccessKey: secret };
  const file = path.join(cacheDir, 'conf', 's3', 'credentials.json');
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as S3Credentials;
    if (c.accessKeyId && c.secretAccessKey) return c;
  } catch {}
  mkdirSync(path.dirname(file), { recursive: true });
  const fresh: S3Credentials = {
    accessKeyId: `LOCAL${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(24).toString('base64url'),
  };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(fresh), { mode: 0o600 });
  // Two processes creating it at once: the first rename wins and both read the winner back.
  if (!existsSync(file)) renameSync(tmp, file);
  else rmSync(tmp, { force: true });
  return JSON.parse(readFileSync(file, 'utf8')) as S3Credentials;
}

function s3HostPort(a: Addresses) {
  const u = new URL(a.s3Endpoint);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
}

const binDir = (ctx: Context) => path.join(ctx.cacheDir, `versitygw-${VERSITYGW_VERSION}`);
const binPath = (ctx: Context) => path.join(binDir(ctx), 'versitygw');

/** Builds versitygw with the Go toolchain into the cache (serialized across processes by a lock). */
async function ensureVersitygw(ctx: Context): Promise<string> {
  if (existsSync(binPath(ctx))) return binPath(ctx);
  return withLock(path.join(ctx.cacheDir, `versitygw-${VERSITYGW_VERSION}.lock`), async () => {
    if (existsSync(binPath(ctx))) return binPath(ctx);
    const go = which('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
    if (!go)
      throw new Error(
        'the local S3 server (versitygw) is built with Go, and `go` is not on PATH. Install Go ≥ 1.25 ' +
          '(https://go.dev/dl/) or set S3_ENDPOINT (with S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY) to an S3 server of yours.',
      );
    const log = path.join(logsDir(ctx), 's3-build.log');
    const partial = `${binDir(ctx)}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    ctx.report.begin(
      's3',
      `building versitygw ${VERSITYGW_VERSION} with go install (once; minutes; log: ${log})`,
    );
    const code = await runLogged(go, ['install', `${MODULE}@${VERSITYGW_VERSION}`], log, {
      env: { ...process.env, GOBIN: partial, CGO_ENABLED: '0' },
    });
    if (code !== 0 || !existsSync(path.join(partial, 'versitygw')))
      throw new Error(`s3: go install ${MODULE}@${VERSITYGW_VERSION} failed (exit ${code}); see ${log}`);
    rmSync(binDir(ctx), { recursive: true, force: true });
    renameSync(partial, binDir(ctx));
    return binPath(ctx);
  });
}

export const s3Driver: Driver = {
  name: 's3',
  composeService: '',
  processMarker: 'versitygw',
  startTimeoutMs: 30_000,
  address: (a) => {
    const { host, port } = s3HostPort(a);
    return `${host}:${port}`;
  },
  hostPort: s3HostPort,

  async probe(a): Promise<Health> {
    try {
      const res = await listBuckets(a.s3Endpoint, S3_LOCAL_REGION, a.s3Credentials);
      const text = await res.text();
      // AWS: 403 for a wrong key or signature; versitygw: 404 XAdminUserNotFound for an unknown access key.
      if (res.status === 403 || text.includes('XAdminUserNotFound') || text.includes('InvalidAccessKeyId'))
        return {
          ok: false,
          misconfigured: true,
          detail: `an S3 server answers at ${a.s3Endpoint} but refuses our credentials (403): not ours? Stop it, or set S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY`,
        };
      if (!res.ok) return { ok: false, detail: `ListBuckets: HTTP ${res.status}` };
      const buckets = [...text.matchAll(/<Name>/g)].length;
      return { ok: true, detail: `signed ListBuckets ok (${buckets} bucket${buckets === 1 ? '' : 's'})` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  },

  async prepare(ctx) {
    await ensureVersitygw(ctx);
    return VERSITYGW_VERSION;
  },

  async start(ctx) {
    const { host, port } = s3HostPort(ctx.addresses);
    const dir = ensureDir(dataDir(ctx, 's3'));
    const creds = ctx.addresses.s3Credentials;
    const bindHost = host === 'localhost' ? '127.0.0.1' : host;
    // Credentials through the environment (never on the command line, where `ps` shows them).
    return spawnDetached(
      binPath(ctx),
      ['--port', `${bindHost}:${port}`, '--region', S3_LOCAL_REGION, '--quiet', 'posix', dir],
      logFile(ctx, 's3'),
      {
        cwd: dir,
        env: {
          ...process.env,
          ROOT_ACCESS_KEY_ID: creds.accessKeyId,
          ROOT_SECRET_ACCESS_KEY: creds.secretAccessKey,
        },
      },
    );
  },
};
