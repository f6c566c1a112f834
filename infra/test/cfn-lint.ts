import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * cfn-lint (PyPI) on a synthesized template. Installed on first use if missing (`pip install cfn-lint`), so a
 * fresh machine with Python needs nothing else.
 *
 * Ignored: W3005 (a DependsOn that a Ref/GetAtt already implies). CDK writes those itself (a function's
 * DependsOn on its role's policy, custom-resource providers) to order IAM before use; they are harmless.
 */
export const IGNORED_CHECKS = ['W3005'] as const;

const run = ['-c', 'import sys; from cfnlint.runner import main; sys.exit(main())'];

function ensureCfnLint(): void {
  const probe = spawnSync('python3', ['-c', 'import cfnlint'], { encoding: 'utf8' });
  if (probe.status === 0) return;
  execFileSync('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', 'cfn-lint'], {
    stdio: 'inherit',
  });
}

export interface CfnLintFinding {
  Rule: { Id: string };
  Message: string;
  Location: { Path: (string | number)[] };
}

/** Lints the template; returns the findings (empty = clean). */
export function cfnLint(template: unknown, name = 'template'): CfnLintFinding[] {
  ensureCfnLint();
  const dir = mkdtempSync(path.join(tmpdir(), 'chat-cfn-lint-'));
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(template));
  const out = spawnSync(
    'python3',
    [...run, '--format', 'json', '--ignore-checks', ...IGNORED_CHECKS, '--', file],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (out.status !== 0 && !out.stdout.trim().startsWith('[')) {
    throw new Error(`cfn-lint failed to run (exit ${out.status}): ${out.stderr}`);
  }
  return JSON.parse(out.stdout || '[]') as CfnLintFinding[];
}

export const describeFindings = (findings: CfnLintFinding[]): string[] =>
  findings.map((f) => `${f.Rule.Id} ${f.Location.Path.join('/')}: ${f.Message}`);
