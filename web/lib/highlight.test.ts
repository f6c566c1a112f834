import type { Element, Root } from 'hast';
import typescript from 'highlight.js/lib/languages/typescript';
import { createLowlight } from 'lowlight';
import { describe, expect, it } from 'vitest';
import {
  codeLanguage,
  createHighlighterLoader,
  grammarName,
  type HighlightReply,
  type HighlightRequest,
  type HighlightSource,
  rehypeLazyHighlight,
} from './highlight.ts';

const block = (className: string[], text: string): { tree: Root; code: Element } => {
  const code: Element = {
    type: 'element',
    tagName: 'code',
    properties: { className },
    children: [{ type: 'text', value: text }],
  };
  const tree: Root = {
    type: 'root',
    children: [{ type: 'element', tagName: 'pre', properties: {}, children: [code] }],
  };
  return { tree, code };
};
const spans = (e: Element): string[] =>
  e.children.flatMap((c) =>
    c.type === 'element' ? [String((c.properties.className as string[] | undefined)?.[0]), ...spans(c)] : [],
  );

describe('lazy code highlighting', () => {
  const lowlight = createLowlight();
  lowlight.register('typescript', typescript);
  const run = (tree: Root) => rehypeLazyHighlight({ lowlight })(tree);

  it('highlights a block whose grammar is loaded, by name or alias, like rehype-highlight', () => {
    const { tree, code } = block(['language-ts'], 'export const n: number = 1;');
    run(tree);
    expect(code.properties.className).toEqual(['hljs', 'language-ts']);
    expect(spans(code)).toContain('hljs-keyword');
  });

  it('leaves a known language plain until its grammar is loaded, and blocks without a language alone', () => {
    const py = block(['language-python'], 'def f(): pass');
    run(py.tree);
    expect(py.code.properties.className).toEqual(['language-python']);
    expect(spans(py.code)).toEqual([]);
    const none = block([], 'plain');
    run(none.tree);
    expect(none.code.properties.className).toEqual([]);
  });

  it('marks an unknown language hljs without highlighting, and honours no-highlight', () => {
    const odd = block(['language-brainfuck'], '++[>]');
    run(odd.tree);
    expect(odd.code.properties.className).toEqual(['hljs', 'language-brainfuck']);
    expect(spans(odd.code)).toEqual([]);
    expect(codeLanguage(block(['nohighlight', 'language-ts'], '').code)).toBe(false);
  });

  it('knows the common languages by their aliases', () => {
    expect(grammarName('TS')).toBe('typescript');
    expect(grammarName('sh')).toBe('bash');
    expect(grammarName('html')).toBe('xml');
    expect(grammarName('python')).toBe('python');
    expect(grammarName('brainfuck')).toBeNull();
  });
});

describe('highlighting in a worker', () => {
  const lowlight = createLowlight();
  lowlight.register('typescript', typescript);

  /** A stand-in for the worker: answers each request from a lowlight, asynchronously, like highlight-worker.ts. */
  function fakeWorker() {
    const requests: HighlightRequest[] = [];
    const worker = {
      onmessage: null as ((e: { data: HighlightReply }) => void) | null,
      onerror: null as (() => void) | null,
      postMessage(req: HighlightRequest) {
        requests.push(req);
        setTimeout(() =>
          worker.onmessage?.({
            data: { id: req.id, children: lowlight.highlight(req.name, req.value).children as Element[] },
          }),
        );
      },
      terminate() {},
    };
    return { worker, requests };
  }

  it('leaves a block plain until the worker answers, then highlights it; each block is asked once', async () => {
    const { worker, requests } = fakeWorker();
    const sources: HighlightSource[] = [];
    const loader = createHighlighterLoader(
      (s) => sources.push(s),
      () => worker as unknown as Worker,
    );
    loader.want('ts');
    expect(sources).toHaveLength(1);
    const source = sources[0] as HighlightSource;
    const first = block(['language-ts'], 'export const n: number = 1;');
    rehypeLazyHighlight({ lowlight: source })(first.tree);
    expect(first.code.properties.className).toEqual(['language-ts']);
    rehypeLazyHighlight({ lowlight: source })(block(['language-ts'], 'export const n: number = 1;').tree);
    expect(requests).toEqual([{ id: 0, name: 'typescript', value: 'export const n: number = 1;' }]);
    await new Promise((r) => setTimeout(r, 10));
    expect(sources).toHaveLength(2);
    const again = block(['language-ts'], 'export const n: number = 1;');
    rehypeLazyHighlight({ lowlight: source })(again.tree);
    expect(again.code.properties.className).toEqual(['hljs', 'language-ts']);
    expect(spans(again.code)).toContain('hljs-keyword');
  });
});
