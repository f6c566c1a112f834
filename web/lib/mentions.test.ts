import type { Root } from 'hast';
import { describe, expect, it } from 'vitest';
import { rehypeMentions, splitMentions } from './mentions.ts';

describe('splitMentions', () => {
  it('marks @username, case-insensitively, at word boundaries', () => {
    expect(splitMentions('hi @bob, and @BOB!', 'bob')).toEqual([
      { text: 'hi ', mention: false },
      { text: '@bob', mention: true },
      { text: ', and ', mention: false },
      { text: '@BOB', mention: true },
      { text: '!', mention: false },
    ]);
    expect(splitMentions('@bob', 'bob')).toEqual([{ text: '@bob', mention: true }]);
  });

  it('leaves longer names, e-mail addresses, @@ and other people alone', () => {
    for (const text of [
      '@bobby',
      'mail bob@bob.example',
      'x@bob',
      'a.@bob',
      'a+@bob',
      '@@bob',
      '@alice',
      'bob',
      '',
    ])
      expect(splitMentions(text, 'bob')).toEqual([{ text, mention: false }]);
  });
});

describe('rehypeMentions', () => {
  const tree = (): Root => ({
    type: 'root',
    children: [
      {
        type: 'element',
        tagName: 'p',
        properties: {},
        children: [
          { type: 'text', value: 'ping @bob: see ' },
          { type: 'element', tagName: 'code', properties: {}, children: [{ type: 'text', value: '@bob' }] },
          { type: 'text', value: ' and ' },
          {
            type: 'element',
            tagName: 'a',
            properties: { href: 'https://x.example' },
            children: [{ type: 'text', value: '@bob' }],
          },
          {
            type: 'element',
            tagName: 'strong',
            properties: {},
            children: [{ type: 'text', value: ' @bob' }],
          },
        ],
      },
    ],
  });

  it('wraps mentions in <mark class="mention"> in text, not in code or links', () => {
    const t = tree();
    rehypeMentions({ username: 'bob' })(t);
    const p = t.children[0] as { children: unknown[] };
    expect(p.children).toEqual([
      { type: 'text', value: 'ping ' },
      {
        type: 'element',
        tagName: 'mark',
        properties: { className: ['mention'] },
        children: [{ type: 'text', value: '@bob' }],
      },
      { type: 'text', value: ': see ' },
      { type: 'element', tagName: 'code', properties: {}, children: [{ type: 'text', value: '@bob' }] },
      { type: 'text', value: ' and ' },
      expect.objectContaining({ tagName: 'a', children: [{ type: 'text', value: '@bob' }] }),
      expect.objectContaining({
        tagName: 'strong',
        children: [{ type: 'text', value: ' ' }, expect.objectContaining({ tagName: 'mark' })],
      }),
    ]);
  });

  it('a username that cannot be one changes nothing', () => {
    const t = tree();
    rehypeMentions({ username: '***' })(t);
    expect(t).toEqual(tree());
  });
});
