import type { Element, ElementContent, Root, RootContent } from 'hast';
import type { LanguageFn } from 'highlight.js';
import type { createLowlight } from 'lowlight';

type Lowlight = ReturnType<typeof createLowlight>;

/**
 * Code highlighting that costs nothing until a code block shows up: the highlighter core (lowlight over
 * highlight.js) and each language's grammar are chunks of their own, loaded when a block in that language is
 * rendered. The languages are lowlight's `common` set (what rehype-highlight registered before), by name or
 * alias; the output is rehype-highlight's (`hljs` class, `hljs-*` spans), blocks without a language are left
 * alone (`detect: false`).
 */
const grammars: Record<string, () => Promise<{ default: LanguageFn }>> = {
  arduino: () => import('highlight.js/lib/languages/arduino'),
  bash: () => import('highlight.js/lib/languages/bash'),
  c: () => import('highlight.js/lib/languages/c'),
  cpp: () => import('highlight.js/lib/languages/cpp'),
  csharp: () => import('highlight.js/lib/languages/csharp'),
  css: () => import('highlight.js/lib/languages/css'),
  diff: () => import('highlight.js/lib/languages/diff'),
  go: () => import('highlight.js/lib/languages/go'),
  graphql: () => import('highlight.js/lib/languages/graphql'),
  ini: () => import('highlight.js/lib/languages/ini'),
  java: () => import('highlight.js/lib/languages/java'),
  javascript: () => import('highlight.js/lib/languages/javascript'),
  json: () => import('highlight.js/lib/languages/json'),
  kotlin: () => import('highlight.js/lib/languages/kotlin'),
  less: () => import('highlight.js/lib/languages/less'),
  lua: () => import('highlight.js/lib/languages/lua'),
  makefile: () => import('highlight.js/lib/languages/makefile'),
  markdown: () => import('highlight.js/lib/languages/markdown'),
  objectivec: () => import('highlight.js/lib/languages/objectivec'),
  perl: () => import('highlight.js/lib/languages/perl'),
  php: () => import('highlight.js/lib/languages/php'),
  'php-template': () => import('highlight.js/lib/languages/php-template'),
  plaintext: () => import('highlight.js/lib/languages/plaintext'),
  python: () => import('highlight.js/lib/languages/python'),
  'python-repl': () => import('highlight.js/lib/languages/python-repl'),
  r: () => import('highlight.js/lib/languages/r'),
  ruby: () => import('highlight.js/lib/languages/ruby'),
  rust: () => import('highlight.js/lib/languages/rust'),
  scss: () => import('highlight.js/lib/languages/scss'),
  shell: () => import('highlight.js/lib/languages/shell'),
  sql: () => import('highlight.js/lib/languages/sql'),
  swift: () => import('highlight.js/lib/languages/swift'),
  typescript: () => import('highlight.js/lib/languages/typescript'),
  vbnet: () => import('highlight.js/lib/languages/vbnet'),
  wasm: () => import('highlight.js/lib/languages/wasm'),
  xml: () => import('highlight.js/lib/languages/xml'),
  yaml: () => import('highlight.js/lib/languages/yaml'),
};

/** The grammars' own aliases (from highlight.js), so that a fence says `ts` and loads `typescript`. */
const aliases: Record<string, string> = {
  ino: 'arduino',
  sh: 'bash',
  zsh: 'bash',
  h: 'c',
  cc: 'cpp',
  'c++': 'cpp',
  'h++': 'cpp',
  hpp: 'cpp',
  hh: 'cpp',
  hxx: 'cpp',
  cxx: 'cpp',
  cs: 'csharp',
  'c#': 'csharp',
  patch: 'diff',
  golang: 'go',
  gql: 'graphql',
  toml: 'ini',
  jsp: 'java',
  js: 'javascript',
  jsx: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  jsonc: 'json',
  json5: 'json',
  kt: 'kotlin',
  kts: 'kotlin',
  pluto: 'lua',
  mk: 'makefile',
  mak: 'makefile',
  make: 'makefile',
  md: 'markdown',
  mkdown: 'markdown',
  mkd: 'markdown',
  mm: 'objectivec',
  objc: 'objectivec',
  'obj-c': 'objectivec',
  'obj-c++': 'objectivec',
  'objective-c++': 'objectivec',
  pl: 'perl',
  pm: 'perl',
  text: 'plaintext',
  txt: 'plaintext',
  py: 'python',
  gyp: 'python',
  ipython: 'python',
  pycon: 'python-repl',
  rb: 'ruby',
  gemspec: 'ruby',
  podspec: 'ruby',
  thor: 'ruby',
  irb: 'ruby',
  rs: 'rust',
  console: 'shell',
  shellsession: 'shell',
  ts: 'typescript',
  tsx: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  vb: 'vbnet',
  html: 'xml',
  xhtml: 'xml',
  rss: 'xml',
  atom: 'xml',
  xjb: 'xml',
  xsd: 'xml',
  xsl: 'xml',
  plist: 'xml',
  wsf: 'xml',
  svg: 'xml',
  yml: 'yaml',
};

/** Languages another one embeds (`<script>` in HTML, a session's commands), loaded with it. */
const embeds: Record<string, string[]> = {
  xml: ['css', 'javascript'],
  'php-template': ['xml', 'php', 'css', 'javascript'],
  'python-repl': ['python'],
  shell: ['bash'],
  markdown: ['xml'],
};

/** The grammar a fence's language names, if it is one of ours. */
export function grammarName(language: string): string | null {
  const l = language.toLowerCase();
  if (Object.hasOwn(grammars, l)) return l;
  return aliases[l] ?? null;
}

/** A fenced block's language from its `language-*` / `lang-*` class; false for `no-highlight`. */
export function codeLanguage(node: Element): string | false | undefined {
  const list = node.properties.className;
  if (!Array.isArray(list)) return undefined;
  let name: string | undefined;
  for (const v of list.map(String)) {
    if (v === 'no-highlight' || v === 'nohighlight') return false;
    if (!name && v.startsWith('lang-')) name = v.slice(5);
    if (!name && v.startsWith('language-')) name = v.slice(9);
  }
  return name;
}

function textOf(node: ElementContent | Element): string {
  if (node.type === 'text') return node.value;
  if (node.type === 'element') return node.children.map(textOf).join('');
  return '';
}

/** What the rehype plugin highlights with: a lowlight, or the worker's results (`createHighlighterLoader`). */
export interface HighlightSource {
  /** Whether blocks in this grammar can be highlighted (false: plain until its grammar is loaded). */
  registered(name: string): boolean;
  /** The highlighted children of `value`, or null while they are not ready (the block stays plain). */
  highlight(name: string, value: string): { children: RootContent[] } | null;
}

/**
 * The rehype plugin over a lowlight with the languages loaded so far (or the worker's results): highlights
 * `pre > code` blocks whose language is registered, like rehype-highlight (which this replaces) with
 * `detect: false`.
 */
export function rehypeLazyHighlight(options: { lowlight: HighlightSource }) {
  const { lowlight } = options;
  return (tree: Root): void => {
    const walk = (node: Root | Element): void => {
      for (const child of node.children as RootContent[]) {
        if (child.type !== 'element') continue;
        if (child.tagName === 'code' && node.type === 'element' && node.tagName === 'pre') highlight(child);
        else walk(child);
      }
    };
    const mark = (code: Element): void => {
      const classes = Array.isArray(code.properties.className) ? code.properties.className : [];
      code.properties.className = classes.includes('hljs') ? classes : ['hljs', ...classes];
    };
    const highlight = (code: Element): void => {
      const lang = codeLanguage(code);
      if (!lang) return;
      const name = grammarName(lang);
      // a language highlight.js's common set does not know: plain, as before
      if (!name) {
        mark(code);
        return;
      }
      if (!lowlight.registered(name)) return; // not loaded yet: plain until it is
      const result = lowlight.highlight(name, textOf(code));
      if (!result) return; // not highlighted yet: plain until it is
      mark(code);
      if (result.children.length > 0) code.children = result.children as ElementContent[];
    };
    walk(tree);
  };
}

/** Registers a grammar and the ones it embeds, loading each (a chunk of its own) the first time. */
export async function registerGrammar(lowlight: Lowlight, name: string): Promise<void> {
  const names = [name, ...(embeds[name] ?? [])].filter((n) => !lowlight.registered(n));
  const loaded = await Promise.all(
    names.map((n) => (grammars[n] as () => Promise<{ default: LanguageFn }>)()),
  );
  // embedded languages are looked up when highlighting, so the order does not matter
  names.forEach((n, i) => {
    if (!lowlight.registered(n)) lowlight.register(n, (loaded[i] as { default: LanguageFn }).default);
  });
}

/** A request to the highlighting worker (`highlight-worker.ts`) and its answer (null: it failed). */
export interface HighlightRequest {
  id: number;
  name: string;
  value: string;
}
export interface HighlightReply {
  id: number;
  children: ElementContent[] | null;
}

/**
 * The highlighting of the blocks rendered so far, off the main thread: a grammar's first use compiles it
 * (≈ 100 ms of a busy phone's main thread for TypeScript), so lowlight and the grammars run in a worker, which
 * answers each block's highlighted tree; the block stays plain until then and `onChange` is called after each
 * answer. Where there is no worker (`worker` returns null, or it fails) lowlight and the grammars load in the
 * page, as before.
 */
export function createHighlighterLoader(
  onChange: (source: HighlightSource) => void,
  worker: () => Worker | null = () => null,
) {
  const results = new Map<string, RootContent[]>();
  const asked = new Set<string>();
  const pending = new Map<number, string>();
  const requested = new Set<string>();
  let nextId = 0;
  let w: Worker | null | undefined;
  let inPage: Lowlight | null = null;
  let core: Promise<Lowlight> | null = null;

  const loadCore = (): Promise<Lowlight> => {
    core ??= import('./highlight-core.ts').then((m) => m.createLowlight());
    return core;
  };
  /** Falls back to highlighting in the page: the languages asked for so far are asked for again. */
  const fallBack = (): void => {
    w?.terminate();
    w = null;
    asked.clear();
    pending.clear();
    const names = [...requested];
    requested.clear();
    for (const name of names) want(name);
  };
  const ensureWorker = (): Worker | null => {
    if (w !== undefined) return w;
    w = worker();
    if (!w) return null;
    w.onmessage = (e: MessageEvent<HighlightReply>) => {
      const key = pending.get(e.data.id);
      if (key === undefined) return;
      pending.delete(e.data.id);
      if (!e.data.children) {
        asked.delete(key); // plain; the block's next render asks again
        return;
      }
      results.set(key, e.data.children);
      onChange(source);
    };
    w.onerror = fallBack;
    return w;
  };
  const source: HighlightSource = {
    registered: (name) => (inPage ? inPage.registered(name) : w !== null),
    highlight(name, value) {
      if (inPage) return inPage.highlight(name, value);
      const key = `${name}\u0000${value}`;
      const done = results.get(key);
      if (done) return { children: done };
      const target = ensureWorker();
      if (target && !asked.has(key)) {
        asked.add(key);
        const id = nextId++;
        pending.set(id, key);
        target.postMessage({ id, name, value } satisfies HighlightRequest);
      }
      return null;
    },
  };

  function want(language: string): void {
    const name = grammarName(language) ?? '';
    if (requested.has(name)) return;
    requested.add(name);
    if (!inPage && ensureWorker()) {
      // the worker loads the grammar with the block's first request (the plugin asks when it renders)
      onChange(source);
      return;
    }
    // in the page: an unknown language still gets the `hljs` class, as before: the core is enough
    Promise.all([loadCore(), name ? loadCore().then((l) => registerGrammar(l, name)) : null])
      .then(([lowlight]) => {
        inPage = lowlight;
        onChange(source);
      })
      .catch(() => requested.delete(name)); // plain code; the next block asks again
  }
  return { want };
}
