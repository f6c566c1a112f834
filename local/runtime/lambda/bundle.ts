/**
 * Bundles functions with the same esbuild options as the CDK house function (`@chat/kit/bundling`); one bundle
 * per function, into
 * `.local/build/`. Writes are atomic (temp file + rename) and each entry gets its own folder keyed by a hash of
 * its path and format, so parallel test files never read a half-written or someone else's bundle.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { functionBundleOptions as fb } from '@chat/kit/bundling';
import { firstPartySourceMapText } from '@chat/kit/source-maps';
import { type BuildOptions, type BuildResult, build as esbuild, stop as stopEsbuild } from 'esbuild';

export type BundleFormat = 'esm' | 'cjs';

export interface BundleRequest {
  /** Function name (folder prefix). */
  readonly name: string;
  /** Absolute path of the entry file. */
  readonly entry: string;
}

export interface BundleOptions {
  readonly outRoot: string;
  readonly format: BundleFormat;
  /** Modules left out of the bundle and resolved at run time (CDK's default for Node 18+: the AWS SDK v3). */
  readonly external?: readonly string[];
  /** Default true, like the CDK house function (source maps make stack traces readable). */
  readonly minify?: boolean;
}

/** Like the CDK house function: nothing external (the shared options in @chat/kit/bundling). */
export const DEFAULT_EXTERNAL: readonly string[] = fb.external;

/**
 * esbuild's service (a Go child process, counted in the runtime's memory) keeps the heap of its last builds:
 * ≈ 430 MB after bundling the functions, for a runtime that then bundles nothing until a reload. It is stopped
 * once no build of ours is in flight; the next build starts it again.
 */
let buildsInFlight = 0;
const build = async (options: BuildOptions & { write: false }): Promise<BuildResult<{ write: false }>> => {
  buildsInFlight += 1;
  try {
    return await esbuild<{ write: false }>(options);
  } finally {
    buildsInFlight -= 1;
    if (buildsInFlight === 0) await stopEsbuild();
  }
};

const shortHash = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 10);

const atomicWrite = async (path: string, contents: Uint8Array): Promise<void> => {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`,
  );
  await writeFile(tmp, contents);
  await rename(tmp, path);
};

/** Bundles every request in one esbuild run; returns function name → absolute bundle path. */
export const bundleFunctions = async (
  requests: readonly BundleRequest[],
  opts: BundleOptions,
): Promise<Map<string, string>> => {
  const out = new Map<string, string>();
  if (requests.length === 0) return out;
  const ext = opts.format === 'esm' ? '.mjs' : '.cjs';
  const entryPoints = requests.map((r) => ({
    in: r.entry,
    out: `${r.name}-${shortHash(`${r.entry}|${opts.format}|${opts.minify ?? true}|keepNames|${(opts.external ?? DEFAULT_EXTERNAL).join(',')}`)}/index`,
  }));
  const result = await build({
    entryPoints,
    outdir: opts.outRoot,
    outExtension: { '.js': ext },
    bundle: true,
    platform: fb.platform,
    target: fb.target,
    format: opts.format,
    sourcemap: fb.sourcemap,
    sourcesContent: fb.sourcesContent,
    minify: opts.minify ?? fb.minify,
    keepNames: fb.keepNames,
    external: [...(opts.external ?? DEFAULT_EXTERNAL)],
    mainFields: opts.format === 'esm' ? [...fb.mainFields] : ['main', 'module'],
    banner: opts.format === 'esm' ? { js: fb.banner } : {},
    write: false,
    logLevel: 'silent',
    metafile: false,
  });
  // Maps first, so a reader of index.* never finds its map missing.
  const files = [...(result.outputFiles ?? [])].sort(
    (a, b) => Number(b.path.endsWith('.map')) - Number(a.path.endsWith('.map')),
  );
  // Only our code's mappings, as the CDK bundling hook leaves them (@chat/kit/source-maps says why).
  for (const f of files)
    await atomicWrite(
      f.path,
      f.path.endsWith('.map') ? Buffer.from(firstPartySourceMapText(f.text)) : f.contents,
    );
  requests.forEach((r, i) => {
    const ep = entryPoints[i];
    if (ep) out.set(r.name, join(opts.outRoot, `${ep.out}${ext}`));
  });
  return out;
};

/** Bundles the environment bootstrap (the in-sandbox runtime) to plain ESM JS; returns its path. */
export const bundleBootstrap = async (outRoot: string): Promise<string> => {
  const src = fileURLToPath(new URL('./bootstrap.ts', import.meta.url));
  const protocolSrc = fileURLToPath(new URL('./protocol.ts', import.meta.url));
  const hash = shortHash((await readFile(src, 'utf8')) + (await readFile(protocolSrc, 'utf8')));
  const target = join(outRoot, '_runtime', `bootstrap-${hash}.mjs`);
  const result = await build({
    entryPoints: [src],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    write: false,
    logLevel: 'silent',
    outfile: target,
  });
  const file = result.outputFiles?.[0];
  if (!file) throw new Error('bootstrap bundle produced no output');
  await atomicWrite(target, file.contents);
  return target;
};
