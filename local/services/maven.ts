/**
 * Resolves a JVM service's classpath from Maven Central with `mvn dependency:copy-dependencies` on one of the
 * small poms in ./maven/, into the cache folder (outside the repo, so fresh clones and CI reuse it).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { aptInstall, ensureDir, runLogged, which } from './support.ts';
import { type Context, logsDir } from './types.ts';

const pomsDir = fileURLToPath(new URL('./maven/', import.meta.url));

async function ensureMaven(ctx: Context, logFile: string): Promise<string> {
  const found = which('mvn');
  if (found) return found;
  ctx.report.line('mvn not found: installing Debian package maven');
  if ((await aptInstall(['maven'], logFile)) && which('mvn')) return which('mvn') as string;
  throw new Error(
    'Maven (mvn) is needed to fetch Kafka and Cassandra from Maven Central. Install it (Debian/Ubuntu: ' +
      '`sudo apt-get install maven`, macOS: `brew install maven`) or point KAFKA_BROKERS / CQL_CONTACT_POINTS ' +
      'at running services.',
  );
}

/**
 * Returns the folder holding every jar of `artifact` (kafka | cassandra) at `version`, downloading on first use.
 * The folder name carries a hash of the pom, so editing the pom re-resolves.
 */
export async function resolveClasspath(
  ctx: Context,
  artifact: 'kafka' | 'cassandra',
  version: string,
  javaHome: string,
): Promise<string> {
  const pom = path.join(pomsDir, artifact, 'pom.xml');
  const hash = createHash('sha256').update(readFileSync(pom)).digest('hex').slice(0, 8);
  const dir = path.join(ctx.cacheDir, `${artifact}-${version}-${hash}`);
  const lib = path.join(dir, 'lib');
  if (existsSync(path.join(dir, '.complete'))) return lib;

  const logFile = path.join(logsDir(ctx), `maven-${artifact}.log`);
  const mvn = await ensureMaven(ctx, logFile);
  ctx.report.begin(artifact, `downloading ${artifact} ${version} from Maven Central (log: ${logFile})`);
  const tmp = `${lib}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  ensureDir(dir);
  const code = await runLogged(
    mvn,
    [
      '-B',
      '-q',
      '-Dstyle.color=never',
      '-f',
      pom,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${tmp}`,
      `-D${artifact}.version=${version}`,
    ],
    logFile,
    { env: { ...process.env, JAVA_HOME: javaHome } },
  );
  if (code !== 0) {
    await rm(tmp, { recursive: true, force: true });
    throw new Error(`mvn could not resolve ${artifact} ${version} (exit ${code}); see ${logFile}`);
  }
  await rm(lib, { recursive: true, force: true });
  await rename(tmp, lib);
  await writeFile(path.join(dir, '.complete'), `${new Date().toISOString()}\n`);
  return lib;
}
