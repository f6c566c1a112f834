import { describe, expect, it } from 'vitest';
import { insertMention, mentionAt, suggestMembers } from './mention-suggest.ts';

const members = [
  { id: 'a', username: 'alice', displayName: 'Alice Martin' },
  { id: 'b', username: 'bob', displayName: 'Bob Chen' },
  { id: 'c', username: 'carol_w', displayName: 'Carol West' },
  { id: 'm', username: 'mallory', displayName: 'Bobby Tables' },
];

describe('mention suggestions in the composer', () => {
  it('finds the @name being typed at the caret, only where a mention can start', () => {
    expect(mentionAt('hi @bo', 6)).toEqual({ start: 3, end: 6, query: 'bo' });
    expect(mentionAt('@', 1)).toEqual({ start: 0, end: 1, query: '' });
    expect(mentionAt('(@Car', 5)).toEqual({ start: 1, end: 5, query: 'car' });
    expect(mentionAt('mail me at x@bo', 15)).toBeNull(); // an e-mail address
    expect(mentionAt('@@bo', 4)).toBeNull();
    expect(mentionAt('hi @bo there', 12)).toBeNull(); // the caret is past the word
    expect(mentionAt('hi @bob', 5)).toBeNull(); // inside the word
    expect(mentionAt('hi @bo ', 7)).toBeNull();
  });

  it('offers usernames that start with it first, then display names with such a word; never me', () => {
    expect(suggestMembers(members, 'a', 'bo').map((m) => m.username)).toEqual(['bob', 'mallory']);
    expect(suggestMembers(members, 'a', 'w').map((m) => m.username)).toEqual(['carol_w']);
    expect(suggestMembers(members, 'a', '').map((m) => m.username)).toEqual(['bob', 'carol_w', 'mallory']);
    expect(suggestMembers(members, 'a', 'al')).toEqual([]);
    expect(suggestMembers(members, 'a', '', 2)).toHaveLength(2);
  });

  it('replaces the token with @username and one space, the caret after it', () => {
    expect(insertMention('hi @bo', { start: 3, end: 6, query: 'bo' }, 'bob')).toEqual({
      text: 'hi @bob ',
      caret: 8,
    });
    expect(insertMention('@c and more', { start: 0, end: 2, query: 'c' }, 'carol_w')).toEqual({
      text: '@carol_w and more',
      caret: 9,
    });
  });
});
