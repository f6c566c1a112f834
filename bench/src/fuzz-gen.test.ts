import { limits } from '@chat/functions/contracts';
import { describe, expect, it } from 'vitest';
import { FrameGenerator, type FuzzFrame, prng } from './fuzz-gen.ts';

const size = (f: FuzzFrame): number => {
  const p = f.payload;
  if ('text' in p) return Buffer.byteLength(p.text);
  if ('binary' in p) return p.binary.length;
  if ('rawText' in p) return p.rawText.length;
  return p.fragments.reduce((n, s) => n + Buffer.byteLength(s), 0);
};

describe('fuzz frame generator', () => {
  it('is deterministic for a seed', () => {
    const a = new FrameGenerator(42);
    const b = new FrameGenerator(42);
    for (let i = 0; i < 500; i++) expect(a.next()).toEqual(b.next());
    expect(prng(1)()).not.toBe(prng(2)());
  });

  it('covers every category and never produces a valid frame', () => {
    const g = new FrameGenerator(7, ['conv-a', 'conv-b']);
    const seen = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const f = g.next();
      seen.set(f.category, (seen.get(f.category) ?? 0) + 1);
      const bytes = size(f);
      if ('text' in f.payload) {
        // A text frame over the frame limit must expect 1009; under it, an error frame.
        expect(f.expect.kind === 'close').toBe(bytes > limits.wsFrameMaxBytes);
        // Never a plain valid ping (which would get a pong, not an error).
        expect(f.payload.text).not.toBe('{"action":"ping"}');
      }
      if ('fragments' in f.payload) expect(bytes).toBeGreaterThan(limits.wsMessageMaxBytes);
      if ('binary' in f.payload) expect(f.expect).toEqual({ kind: 'close', codes: [1003] });
    }
    for (const c of [
      'random-bytes-binary',
      'invalid-utf8-text',
      'frame-over-32KB',
      'message-over-128KB-fragmented',
      'random-text',
      'truncated-json',
      'wrong-types',
      'huge-strings',
      'deep-nesting',
      'unicode-edges',
      'protocol-nonsense',
    ]) {
      expect(seen.get(c), c).toBeGreaterThan(10);
    }
  });

  it('truncated JSON never parses', () => {
    const g = new FrameGenerator(99);
    let checked = 0;
    for (let i = 0; i < 5_000; i++) {
      const f = g.next();
      if (f.category !== 'truncated-json' || !('text' in f.payload)) continue;
      const text = f.payload.text;
      expect(() => JSON.parse(text)).toThrow(SyntaxError);
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
  });
});
