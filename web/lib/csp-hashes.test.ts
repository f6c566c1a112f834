import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCsp, parseCsp } from './csp.ts';
import {
  CSP_HASHES_FILE,
  computeCspHashes,
  inlineScripts,
  readCspHashes,
  scriptHash,
  writeCspHashes,
} from './csp-hashes.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function exportDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'csp-hashes-'));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), body);
  }
  return dir;
}

describe('CSP hashes of inline scripts', () => {
  it('hashes the UTF-8 bytes of a script body as browsers do (known sha256 vectors)', () => {
    expect(scriptHash('alert(1)')).toBe("'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='");
    expect(scriptHash('self.__next_f.push([1,"é"])')).toBe(
      "'sha256-dv0JtpxmHXrDI1gjYAA39VMc738BDF21voU1xCV8A70='",
    );
  });

  it('takes inline scripts only: not src scripts, not JSON data blocks; bodies exactly as written', () => {
    const html = [
      '<script src="/_next/static/chunks/a.js" async=""></script>',
      '<script>alert(1)</script>',
      '<SCRIPT type="module">\n import "x";\n</SCRIPT>',
      '<script type="application/json">{"a":1}</script>',
      '<script type="text/javascript"></script>',
    ].join('');
    expect(inlineScripts(html)).toEqual(['alert(1)', '\n import "x";\n', '']);
  });

  it('collects every page of an export once (not _next), writes and reads csp-hashes.json', () => {
    const dir = exportDir({
      'index.html': '<script>alert(1)</script><script>a()</script>',
      'chat.html': '<script>alert(1)</script><script>b()</script>',
      'docs/index.html': '<script>c()</script>',
      '_next/static/x.html': '<script>never()</script>',
    });
    const computed = computeCspHashes(dir);
    expect(computed.pages).toEqual(['chat.html', 'docs/index.html', 'index.html']);
    expect(computed.scriptSrc).toEqual(['alert(1)', 'a()', 'b()', 'c()'].map(scriptHash).sort());
    // without the file the pages are hashed on the spot; with it, the file is the answer
    expect(readCspHashes(dir)).toEqual(computed);
    writeCspHashes(dir);
    writeFileSync(path.join(dir, 'index.html'), '<script>changed()</script>');
    expect(readCspHashes(dir)).toEqual(computed);
    writeFileSync(path.join(dir, CSP_HASHES_FILE), '{"scriptSrc":["\'unsafe-inline\'"]}');
    expect(() => readCspHashes(dir)).toThrow(/not a CSP hash list/);
    expect(readCspHashes(path.join(dir, 'missing')).scriptSrc).toEqual([]);
  });

  it("puts the hashes in script-src, without 'unsafe-inline' (nor in style-src)", () => {
    const hashes = [scriptHash('alert(1)')];
    const policy = parseCsp(buildCsp({ connectSrc: ['https://api.example'], scriptHashes: hashes }));
    expect(policy['script-src']).toEqual(["'self'", ...hashes]);
    expect(policy['script-src']).not.toContain("'unsafe-inline'");
    expect(policy['style-src']).toEqual(["'self'"]);
  });
});
