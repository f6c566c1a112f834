/**
 * Deterministic generator of hostile WebSocket frames (seeded PRNG, so a failing frame can be replayed by
 * index). Every generated frame is invalid for the protocol; each carries what the contract says the answer
 * must be: an `error` frame (the connection stays open) or a close with a given code.
 */
import { limits } from '@chat/functions/contracts';

export type Expect = { kind: 'error' } | { kind: 'close'; codes: number[] };

export interface FuzzFrame {
  index: number;
  category: string;
  /** Text frame payload, binary payload, or a fragmented text message (several frames). */
  payload: { text: string } | { binary: Buffer } | { fragments: string[] } | { rawText: Buffer };
  expect: Expect;
}

/** mulberry32: small, fast, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ERROR: Expect = { kind: 'error' };
const TOO_BIG: Expect = { kind: 'close', codes: [1009] };
const BINARY: Expect = { kind: 'close', codes: [1003] };
/** Invalid UTF-8 in a text frame: RFC 6455 requires close 1007 (API Gateway's behaviour is not documented). */
const BAD_UTF8: Expect = { kind: 'close', codes: [1007] };

const ACTIONS = ['sendMessage', 'typing', 'markRead', 'ping'] as const;

const UNICODE_EDGES = [
  '\u0000',
  '\uFEFF',
  '\u200B\u200C\u200D',
  '\u202E\u202Dreversed',
  '\uD83D\uDE00',
  '👩‍👩‍👧‍👦',
  '\uFFFD',
  '\uFFFF',
  'e\u0301\u0301\u0301\u0301',
  '𝕳𝖊𝖑𝖑𝖔',
  '\u2028\u2029',
  '\u0085',
  'Ω≈ç√∫',
  '田中さんにあげて下さい',
  '\u0600\u0601\u0602',
  'ﷺ'.repeat(50),
];

/** A JSON string literal holding a lone surrogate (valid JSON text, invalid Unicode). */
const loneSurrogateLiteral = (r: () => number) =>
  `"${r() < 0.5 ? '\\uD800' : '\\uDFFF'}x${r() < 0.5 ? '\\uDBFF' : ''}"`;

export class FrameGenerator {
  private readonly r: () => number;
  private i = 0;

  constructor(
    seed: number,
    /** Conversation ids to aim at (the fuzzing user is a member of none of them, or they do not exist). */
    private readonly conversationIds: string[] = ['no-such-conversation'],
  ) {
    this.r = prng(seed);
  }

  private int(max: number): number {
    return Math.floor(this.r() * max);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }

  private randomText(len: number): string {
    let s = '';
    for (let k = 0; k < len; k++) s += String.fromCharCode(32 + this.int(95));
    return s;
  }

  private randomUnicode(len: number): string {
    let s = '';
    for (let k = 0; k < len; k++) {
      const roll = this.r();
      if (roll < 0.3) s += this.pick(UNICODE_EDGES);
      else if (roll < 0.6) s += String.fromCodePoint(0x80 + this.int(0x7ff));
      else if (roll < 0.8) s += String.fromCodePoint(0x10000 + this.int(0xfffff));
      else s += String.fromCharCode(32 + this.int(95));
    }
    return s;
  }

  /** A frame that would be valid, used as the base of mutations. */
  private validBase(): Record<string, unknown> {
    const conversationId = this.pick(this.conversationIds);
    switch (this.pick(ACTIONS)) {
      case 'sendMessage':
        return { action: 'sendMessage', conversationId, clientMsgId: `fz-${this.i}`, body: 'hello' };
      case 'typing':
        return { action: 'typing', conversationId, state: 'start' };
      case 'markRead':
        return { action: 'markRead', conversationId, messageId: '01ARYZ6S41TSV4RRFFQ69G5FAV' };
      default:
        return { action: 'sendMessage', conversationId, clientMsgId: `fz-${this.i}`, body: 'hi' };
    }
  }

  private wrongValue(): unknown {
    return this.pick<unknown>([
      null,
      0,
      -1,
      1e308,
      true,
      [],
      {},
      [1, 2, 3],
      { $gt: '' },
      '',
      ' ',
      'x'.repeat(65),
      Number.MAX_SAFE_INTEGER,
      { toString: 'x' },
      ['sendMessage'],
    ]);
  }

  /** Next frame. Categories are drawn with fixed weights. */
  next(): FuzzFrame {
    const index = this.i++;
    const roll = this.r();
    const make = (category: string, payload: FuzzFrame['payload'], expect: Expect = ERROR): FuzzFrame => ({
      index,
      category,
      payload,
      expect,
    });

    if (roll < 0.01) {
      const bytes = Buffer.alloc(1 + this.int(256));
      for (let k = 0; k < bytes.length; k++) bytes[k] = this.int(256);
      return make('random-bytes-binary', { binary: bytes }, BINARY);
    }
    if (roll < 0.015) {
      // Invalid UTF-8 sent as a text frame.
      const bytes = Buffer.from([
        0x7b,
        0x22,
        0xc3,
        0x28,
        0xff,
        0xfe,
        0x22,
        0x7d,
        ...[0x80, 0xbf].slice(0, 1 + this.int(2)),
      ]);
      return make('invalid-utf8-text', { rawText: bytes }, BAD_UTF8);
    }
    if (roll < 0.02) {
      // One frame over the 32 KB frame limit.
      const size = limits.wsFrameMaxBytes + 1 + this.int(4096);
      return make(
        'frame-over-32KB',
        { text: JSON.stringify({ action: 'sendMessage', body: 'x'.repeat(size) }) },
        TOO_BIG,
      );
    }
    if (roll < 0.022) {
      // A message over 128 KB in frames of at most 32 KB each.
      const chunk = limits.wsFrameMaxBytes - 1024;
      const count = Math.ceil((limits.wsMessageMaxBytes + 1024) / chunk);
      return make(
        'message-over-128KB-fragmented',
        { fragments: Array.from({ length: count }, () => 'y'.repeat(chunk)) },
        TOO_BIG,
      );
    }
    if (roll < 0.15) {
      const len = this.int(200);
      const text = this.r() < 0.5 ? this.randomText(len) : this.randomUnicode(len);
      // Random text is almost never JSON; if it is (e.g. "7"), it is still not a frame.
      return make('random-text', { text: text.length ? text : ' ' });
    }
    if (roll < 0.3) {
      const full = JSON.stringify(this.validBase());
      return make('truncated-json', { text: full.slice(0, 1 + this.int(full.length - 1)) });
    }
    if (roll < 0.5) {
      const base = this.validBase();
      const keys = Object.keys(base);
      const key = this.pick(keys);
      base[key] = this.wrongValue();
      if (key !== 'action' && base.action === 'ping') base.action = 'typing';
      return make('wrong-types', { text: JSON.stringify(base) });
    }
    if (roll < 0.6) {
      const base = this.validBase();
      const which = this.int(5);
      if (which === 0) base.body = 'b'.repeat(limits.messageBodyMaxChars + 1 + this.int(20_000));
      else if (which === 1) base.clientMsgId = 'c'.repeat(limits.clientMsgIdMax + 1 + this.int(1000));
      else if (which === 2) base.conversationId = 'd'.repeat(65 + this.int(20_000));
      else if (which === 3) base.action = 'a'.repeat(1 + this.int(20_000));
      else base.extra = 'e'.repeat(this.int(20_000));
      if (which === 4) base.conversationId = `missing-${this.int(1e9)}`;
      if (base.action === 'ping') base.action = 'sendMessage';
      const text = JSON.stringify(base);
      return make(
        'huge-strings',
        { text },
        Buffer.byteLength(text) > limits.wsFrameMaxBytes ? TOO_BIG : ERROR,
      );
    }
    if (roll < 0.7) {
      const depth = 1 + this.int(this.r() < 0.5 ? 100 : 8000);
      const arr = this.r() < 0.5;
      const nested = arr
        ? `${'['.repeat(depth)}${']'.repeat(depth)}`
        : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      const base = JSON.stringify(this.validBase());
      const field = this.pick(['conversationId', 'body', 'clientMsgId', 'state', 'action', 'messageId']);
      const text = this.r() < 0.2 ? nested : `${base.slice(0, -1)},"${field}":${nested}}`;
      return make(
        'deep-nesting',
        { text },
        Buffer.byteLength(text) > limits.wsFrameMaxBytes ? TOO_BIG : ERROR,
      );
    }
    if (roll < 0.85) {
      const base = this.validBase();
      const field = this.pick(['conversationId', 'clientMsgId', 'state', 'action', 'messageId']);
      const useSurrogate = this.r() < 0.3;
      const value = this.randomUnicode(1 + this.int(40));
      let text = JSON.stringify({ ...base, [field]: value });
      if (useSurrogate)
        text = `${JSON.stringify(base).slice(0, -1)},"${field}":${loneSurrogateLiteral(this.r)}}`;
      // A unicode body to a conversation the user is not in is still refused (not_member).
      return make('unicode-edges', { text });
    }
    // Protocol-shaped nonsense: unknown actions, missing fields, extra top-level types.
    const shapes: (() => string)[] = [
      () => JSON.stringify({ action: this.randomText(1 + this.int(20)) }),
      () => JSON.stringify({ action: '$connect' }),
      () => JSON.stringify({ action: '$disconnect' }),
      () => JSON.stringify({ action: 'sendMessage' }),
      () => JSON.stringify({ action: 'typing', conversationId: this.pick(this.conversationIds) }),
      () =>
        JSON.stringify({
          action: 'markRead',
          conversationId: this.pick(this.conversationIds),
          messageId: 'not-a-ulid',
        }),
      () => JSON.stringify([{ action: 'ping' }]),
      () => JSON.stringify('ping'),
      () => 'null',
      () => '{}',
      () => JSON.stringify({ type: 'message', action: null }),
      () => JSON.stringify({ action: { action: 'ping' } }),
      () =>
        JSON.stringify({
          action: 'sendMessage',
          conversationId: this.pick(this.conversationIds),
          clientMsgId: 'x',
          body: '',
        }),
      () =>
        JSON.stringify({
          action: 'sendMessage',
          conversationId: this.pick(this.conversationIds),
          clientMsgId: 'x',
          body: '   ',
        }),
      () => JSON.stringify({ __proto__: { action: 'ping' }, constructor: { prototype: { polluted: 1 } } }),
      () => '{"action":"ping","action":"sendMessage"}',
    ];
    return make('protocol-nonsense', { text: this.pick(shapes)() });
  }
}
