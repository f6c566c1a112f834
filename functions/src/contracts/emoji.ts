/**
 * Reaction emoji: exactly one emoji, as one grapheme (`Intl.Segmenter`). Accepted: a pictographic grapheme
 * (`\p{Extended_Pictographic}`, with skin-tone modifiers, ZWJ sequences, variation selectors and tag sequences
 * such as subdivision flags), a flag (two regional indicators) or a keycap (`0`–`9`, `#`, `*` + U+20E3).
 * Anything else (letters, two emoji, a lone regional indicator, text with an emoji) is refused.
 */

/** An emoji is a few code points; 64 UTF-16 units bounds the longest ZWJ and tag sequences with room. */
export const EMOJI_MAX_UNITS = 64;

const PICTOGRAPHIC = /\p{Extended_Pictographic}/u;
const EMOJI_PARTS =
  /^(?:\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}|[\u200D\uFE0E\uFE0F\u20E3\u{E0020}-\u{E007F}])+$/u;
const FLAG = /^\p{Regional_Indicator}{2}$/u;
const KEYCAP = /^[0-9#*]\uFE0F?\u20E3$/u;

let segmenter: Intl.Segmenter | undefined;

const graphemes = (s: string): number => {
  segmenter ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  let n = 0;
  for (const _ of segmenter.segment(s)) n += 1;
  return n;
};

/** true when `s` is exactly one emoji (one grapheme, see above). */
export function isSingleEmoji(s: string): boolean {
  if (s.length === 0 || s.length > EMOJI_MAX_UNITS) return false;
  if (graphemes(s) !== 1) return false;
  if (FLAG.test(s) || KEYCAP.test(s)) return true;
  return PICTOGRAPHIC.test(s) && EMOJI_PARTS.test(s);
}
