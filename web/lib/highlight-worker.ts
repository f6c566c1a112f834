/**
 * The code highlighter's worker (lib/highlight.ts, `createHighlighterLoader`): lowlight and the grammars, each
 * loaded with its first block, off the page's main thread. Answers each `HighlightRequest` with the block's
 * highlighted children (hast), or null when its grammar could not be loaded.
 */

import { type HighlightReply, type HighlightRequest, registerGrammar } from './highlight.ts';
import { createLowlight } from './highlight-core.ts';

const lowlight = createLowlight();
const scope = self as unknown as {
  addEventListener(type: 'message', fn: (e: MessageEvent<HighlightRequest>) => void): void;
  postMessage(reply: HighlightReply): void;
};

async function answer({ id, name, value }: HighlightRequest): Promise<HighlightReply> {
  try {
    await registerGrammar(lowlight, name);
    return { id, children: lowlight.highlight(name, value).children as HighlightReply['children'] };
  } catch {
    return { id, children: null };
  }
}

scope.addEventListener('message', (e) => {
  void answer(e.data).then((reply) => scope.postMessage(reply));
});
