import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type FunctionName, functionDefs } from '@chat/functions/routes';
import type { CfnResource } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChatFunction } from '../lib/constructs/chat-function.ts';
import { cfnLint, describeFindings } from './cfn-lint.ts';
import { resourcesOfType } from './helpers.ts';
import { type Synthesized, synthChatStack } from './synth.ts';

let s: Synthesized;

beforeAll(() => {
  // As `cdk synth` runs on a fresh clone: real esbuild bundles of the real handler entries (no stubs), and no
  // web/out yet.
  s = synthChatStack({
    bundle: true,
    context: { missingEntries: 'fail', webOut: 'infra/test/fixtures/web-out-that-does-not-exist' },
  });
});

describe('When the app is synthesized on a fresh machine', () => {
  it('bundles every handler locally into a minified ESM bundle with a source map', () => {
    const ours = new Set(
      s.stack.node
        .findAll()
        .filter((c): c is ChatFunction => c instanceof ChatFunction)
        .map((fn) => s.stack.getLogicalId(fn.node.defaultChild as CfnResource)),
    );
    const functions = resourcesOfType(s.json, 'AWS::Lambda::Function').filter(([id]) => ours.has(id));
    // Route-table functions plus the three custom-resource functions (topics, JWT keys, VAPID keys).
    expect(functions.length).toBe(Object.keys(functionDefs).length + 3);
    for (const [id, fn] of functions) {
      const key = (fn.Properties?.Code as { S3Key?: string } | undefined)?.S3Key ?? '';
      const dir = path.join(s.app.outdir, `asset.${key.replace(/\.zip$/, '')}`);
      expect(existsSync(dir), id).toBe(true);
      const files = readdirSync(dir);
      expect(files, id).toContain('index.mjs');
      expect(files, id).toContain('index.mjs.map');
      // The bundling hook left only our code's mappings (@chat/kit/source-maps), as the local runtime does.
      const { sources } = JSON.parse(readFileSync(path.join(dir, 'index.mjs.map'), 'utf8')) as {
        sources: string[];
      };
      expect(
        sources.filter((s) => s.includes('node_modules')),
        id,
      ).toEqual([]);
      expect(
        sources.some((s) => s.includes('functions/src/')),
        id,
      ).toBe(true);
    }
  });

  it('bundles the Keyspaces SigV4 authenticator into the functions that use CQL, and only those', () => {
    const bundleOf = (name: FunctionName): string => {
      const fn = s.stack.functions.byName[name];
      const code = s.json.Resources[s.stack.getLogicalId(fn.node.defaultChild as CfnResource)]?.Properties
        ?.Code as { S3Key?: string } | undefined;
      const key = code?.S3Key ?? '';
      return readFileSync(path.join(s.app.outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs'), 'utf8');
    };
    for (const name of Object.keys(functionDefs) as FunctionName[]) {
      const usesCql = (functionDefs[name].uses as readonly string[]).includes('cql');
      expect(bundleOf(name).includes('Keyspaces SigV4: no nonce'), name).toBe(usesCql);
    }
  });

  it('deploys a placeholder page and warns when web/out is missing', () => {
    expect(s.stack.site.builtFromPlaceholder).toBe(true);
    Annotations.fromStack(s.stack).hasWarning(
      '/ChatTest/Site',
      Match.stringLikeRegexp('web-out-that-does-not-exist'),
    );
  });

  it('has zero unacknowledged cdk-nag findings', () => {
    expect(s.nag.violations.map((v) => v.ruleName)).toEqual([]);
  });

  // cfn-lint takes 10-40 s on the shared 2-core machine (more on first use, when pip installs it).
  it('is clean under cfn-lint', { timeout: 300_000 }, () => {
    expect(describeFindings(cfnLint(s.json, 'default'))).toEqual([]);
  });
});
