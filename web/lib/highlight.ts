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

/**
 * The rehype plugin over a lowlight with the languages loaded so far: highlights `pre > code` blocks whose
 * language is registered, like rehype-highlight (which this replaces) with `detect: false`.
 */
export function rehypeLazyHighlight(options: { lowlight: Lowlight }) {
  const { lowlight } = options;
  return (tree: Root): void => {
    const walk = (node: Root | Element): void => {
      for (const child of node.children as RootContent[]) {
        if (child.type !== 'element') continue;
        if (child.tagName === 'code' && node.type === 'element' && node.tagName === 'pre') highlight(child);
        else walk(child);
      }
    };
    const highlight = (code: Element): void => {
      const lang = codeLanguage(code);
      if (!lang) return;
      const name = grammarName(lang);
      if (name && !lowlight.registered(name)) return; // not loaded yet: plain until it is
      const classes = Array.isArray(code.properties.className) ? code.properties.className : [];
      code.properties.className = classes.includes('hljs') ? classes : ['hljs', ...classes];
      if (!name) return; // a language highlight.js's common set does not know: plain, as before
      const result = lowlight.highlight(name, textOf(code));
      if (result.children.length > 0) code.children = result.children as ElementContent[];
    };
    walk(tree);
  };
}

/** Loads lowlight and the grammars one at a time as blocks ask for them; `onChange` after each. */
export function createHighlighterLoader(onChange: (lowlight: Lowlight) => void) {
  let core: Promise<Lowlight> | null = null;
  const requested = new Set<string>();
  const loadCore = (): Promise<Lowlight> => {
    core ??= import('./highlight-core.ts').then((m) => m.createLowlight());
    return core;
  };
  const want = (language: string): void => {
    const name = grammarName(language);
    if (!name) {
      // an unknown language still gets the `hljs` class, as before: the core is enough
      if (!requested.has('')) {
        requested.add('');
        loadCore().then(onChange, () => requested.delete(''));
      }
      return;
    }
    if (requested.has(name)) return;
    requested.add(name);
    const names = [name, ...(embeds[name] ?? [])];
    Promise.all([loadCore(), ...names.map((n) => (grammars[n] as () => Promise<{ default: LanguageFn }>)())])
      .then(([lowlight, ...loaded]) => {
        // embedded languages are looked up when highlighting, so the order does not matter
        names.forEach((n, i) => {
          const grammar = loaded[i] as { default: LanguageFn };
          if (!lowlight.registered(n)) lowlight.register(n, grammar.default);
        });
        onChange(lowlight);
      })
      .catch(() => requested.delete(name)); // plain code; the next block asks again
  };
  return { want };
}
