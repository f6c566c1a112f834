/**
 * The repository's import boundaries, checked by `npm run deps` (part of `npm test`). docs/architecture.md
 * explains each rule. Paths are relative to the repository root.
 */
const { readFileSync } = require('node:fs');
const path = require('node:path');

const WORKSPACES = ['kit', 'functions', 'local', 'infra', 'web', 'bench'];

/** The files a workspace's package.json `exports` names: the only ones another workspace may import. */
const exportTargets = (ws) => {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, ws, 'package.json'), 'utf8'));
  return Object.values(pkg.exports ?? {}).map((t) => `${ws}/${t.replace(/^\.\//, '')}`);
};
const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const onlyThese = (files) => `^(${files.map(escapeRegExp).join('|')})$`;
/** Each workspace's workspace dependencies, as its package.json declares them (dependencies or devDependencies). */
const declaredWorkspaces = (ws) => {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, ws, 'package.json'), 'utf8'));
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
  return WORKSPACES.filter((other) => names.includes(`@chat/${other}`));
};
/** One rule per workspace: it may import only itself and the workspaces it declares. */
const undeclaredWorkspaceRules = () =>
  WORKSPACES.map((ws) => {
    const undeclared = WORKSPACES.filter((o) => o !== ws && !declaredWorkspaces(ws).includes(o));
    return {
      name: `undeclared-workspace-dependency-of-${ws}`,
      comment: `${ws}/ imports another workspace only when ${ws}/package.json lists it as @chat/<name>.`,
      severity: 'error',
      from: { path: `^${ws}/` },
      to: { path: `^(${undeclared.join('|')})/` },
    };
  }).filter((r) => !r.to.path.includes('()'));
/** Test and dev-tool code: tests, their support files and fixtures, and developer scripts. */
const TEST = '(\\.test\\.ts$|/test/|/e2e/|/test-fixtures/|/testing/|/scripts/)';

module.exports = {
  forbidden: [
    {
      name: 'core-imports-only-contracts',
      comment:
        'The pure core (functions/src/core) depends on the wire contracts and @chat/kit only: no adapter, no transport, no platform.',
      severity: 'error',
      from: { path: '^functions/src/core/' },
      to: { path: '^(functions/src/(?!core/|contracts/)|local/|infra/|web/|bench/)' },
    },
    {
      name: 'contracts-are-a-leaf',
      comment: 'The wire contracts import nothing of the project but each other.',
      severity: 'error',
      from: { path: '^functions/src/contracts/' },
      to: { path: '^(functions/src/(?!contracts/)|kit/|local/|infra/|web/|bench/)' },
    },
    {
      name: 'kit-is-a-leaf',
      comment: '@chat/kit imports no other workspace.',
      severity: 'error',
      from: { path: '^kit/' },
      to: { path: '^(functions|local|infra|web|bench)/' },
    },
    {
      name: 'functions-never-import-local-infra-bench-web',
      comment:
        'Handler code runs on AWS: it cannot depend on the local platform, the CDK app, the bench or the web.',
      severity: 'error',
      from: { path: '^functions/src/' },
      to: { path: '^(local|infra|bench|web)/' },
    },
    {
      name: 'infra-never-imports-local',
      comment:
        'The CDK app does not depend on the local platform (what both need lives in @chat/kit or @chat/functions).',
      severity: 'error',
      from: { path: '^infra/' },
      to: { path: '^(local|bench)/' },
    },
    {
      name: 'web-imports-only-contracts',
      comment:
        'The browser app takes only the wire contracts from functions, and nothing from the local platform outside its e2e tests.',
      severity: 'error',
      from: { path: '^web/', pathNot: '^web/(e2e|scripts)/' },
      to: { path: '^(functions/(?!src/contracts/)|local/|infra/|bench/)' },
    },
    {
      name: 'functions-only-through-named-entries',
      comment: 'Other workspaces import functions only through the entries its package.json exports.',
      severity: 'error',
      from: { path: '^(kit|local|infra|web|bench)/', pathNot: '^local/runtime/test-fixtures/' },
      to: { path: '^functions/', pathNot: onlyThese(exportTargets('functions')) },
    },
    {
      name: 'local-only-through-named-entries',
      comment:
        'Other workspaces use the local platform only through its public API (the entries local/package.json exports).',
      severity: 'error',
      from: { path: '^(functions|web|bench)/' },
      to: { path: '^local/', pathNot: onlyThese(exportTargets('local')) },
    },
    {
      name: 'bench-speaks-the-public-protocol',
      comment:
        'The bench measures the product from outside: contracts, @chat/kit and the local platform public API only.',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^(functions/src/(?!contracts/)|infra/|web/)' },
    },
    {
      name: 'tests-stay-out-of-production-code',
      comment: 'Production code never imports test code.',
      severity: 'error',
      from: { path: '^(kit|functions|local|infra|web|bench)/', pathNot: TEST },
      to: { path: TEST },
    },
    {
      name: 'no-unresolvable-import',
      comment: 'Every import resolves (a package not installed or not listed is an error).',
      severity: 'error',
      from: { pathNot: '\\.d\\.ts$' },
      to: { couldNotResolve: true },
    },
    ...undeclaredWorkspaceRules(),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|cdk\\.out|\\.next|out|results|\\.local)/' },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    // Only for the web's `@/*` path alias; every other workspace resolves through package.json exports/imports.
    tsConfig: { fileName: 'tsconfig.depcruise.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'],
      mainFields: ['module', 'main', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
