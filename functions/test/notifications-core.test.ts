/** The pure side of notifications (issue 15): mentions, snippets, the offline record, who gets what, the allowlist. */
import { describe, expect, it } from 'vitest';
import type { NotificationRecord } from '#contracts/kafka.ts';
import type { Message } from '#contracts/models.ts';
import {
  DEFAULT_PUSH_HOSTS,
  endpointRefusal,
  findMentions,
  offlineRecord,
  parsePushHosts,
  planPushes,
  snippetOf,
} from '#core/notifications.ts';

const members = [
  { id: 'u-ann', username: 'ann' },
  { id: 'u-bob', username: 'bob' },
  { id: 'u-bo', username: 'bo' },
];

describe('findMentions', () => {
  it('finds members by @username, case-insensitive, once each, in order, never the sender', () => {
    expect(findMentions('@bob and @ANN, @bob again', members, 'u-x')).toEqual(['u-bob', 'u-ann']);
    expect(findMentions('hi @ann', members, 'u-ann')).toEqual([]);
    expect(findMentions('(@bo) @bobby @bo_', members, 'u-x')).toEqual(['u-bo']);
  });
  it('ignores e-mail addresses, non-members and bodies without @', () => {
    expect(findMentions('mail ann@bob.dev or x.@bob', members, 'u-x')).toEqual([]);
    expect(findMentions('@carol', members, 'u-x')).toEqual([]);
    expect(findMentions('no mention', members, 'u-x')).toEqual([]);
  });
  it('keeps at most 50', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ id: `u${i}`, username: `user${i}` }));
    expect(findMentions(many.map((m) => `@${m.username}`).join(' '), many, 'x')).toHaveLength(50);
  });
});

describe('snippetOf', () => {
  it('collapses whitespace and cuts long bodies with an ellipsis, never inside a surrogate pair', () => {
    expect(snippetOf('  a\n\n b  ')).toBe('a b');
    const long = snippetOf('x'.repeat(500));
    expect(long).toHaveLength(200);
    expect(long.endsWith('…')).toBe(true);
    const emoji = snippetOf('😀'.repeat(150), 10);
    expect(emoji).toBe(`${'😀'.repeat(4)}…`);
  });
});

const message = (id: string, senderId: string, body: string, mentions?: string[]): Message => ({
  id,
  conversationId: 'c1',
  senderId,
  clientMsgId: id,
  body,
  sentAt: new Date(0).toISOString(),
  ...(mentions ? { mentions } : {}),
});

describe('offlineRecord', () => {
  it('one record per conversation for the offline members; null when nobody is offline', () => {
    const ms = [message('01AAAAAAAAAAAAAAAAAAAAAAAA', 'a', 'hello @b', ['b'])];
    expect(offlineRecord('c1', ms, [])).toBeNull();
    expect(offlineRecord('c1', ms, ['a'])).toBeNull(); // only the sender, of their own message
    expect(offlineRecord('c1', ms, ['b', 'c', 'b'])).toEqual({
      type: 'notify.offline',
      v: 1,
      conversationId: 'c1',
      messages: [{ id: '01AAAAAAAAAAAAAAAAAAAAAAAA', senderId: 'a', snippet: 'hello @b', mentions: ['b'] }],
      userIds: ['b', 'c'],
    });
  });
});

describe('planPushes', () => {
  const record: NotificationRecord = {
    type: 'notify.offline',
    v: 1,
    conversationId: 'c1',
    messages: [
      { id: '01AAAAAAAAAAAAAAAAAAAAAAAA', senderId: 'a', snippet: 'plain' },
      { id: '01BBBBBBBBBBBBBBBBBBBBBBBB', senderId: 'a', snippet: '@b look', mentions: ['b'] },
      { id: '01CCCCCCCCCCCCCCCCCCCCCCCC', senderId: 'c', snippet: 'mine' },
    ],
    userIds: ['b', 'c'],
  };
  const names = new Map([
    ['a', 'Ann'],
    ['c', 'Cid'],
  ]);
  it('mute passes only mentions; a member never gets their own message', () => {
    const plan = planPushes(record, {
      groupTitle: 'Team',
      names,
      muted: new Set(['b']),
      hidePreview: new Set(),
    });
    expect(plan.map((p) => [p.userId, p.payload.messageId, p.payload.mention])).toEqual([
      ['c', '01AAAAAAAAAAAAAAAAAAAAAAAA', false],
      ['b', '01BBBBBBBBBBBBBBBBBBBBBBBB', true],
      ['c', '01BBBBBBBBBBBBBBBBBBBBBBBB', false],
    ]);
    expect(plan[1]?.payload).toMatchObject({
      conversationTitle: 'Team',
      senderName: 'Ann',
      snippet: '@b look',
    });
  });
  it('a DM is titled by the sender; hidden previews carry no title, sender or text', () => {
    const plan = planPushes(record, {
      groupTitle: null,
      names,
      muted: new Set(),
      hidePreview: new Set(['c']),
    });
    expect(plan.find((p) => p.userId === 'b')?.payload.conversationTitle).toBe('Ann');
    expect(plan.find((p) => p.userId === 'c')?.payload).toMatchObject({
      conversationTitle: null,
      senderName: null,
      snippet: null,
      hidden: true,
    });
  });
});

describe('endpointRefusal (no SSRF)', () => {
  const aws = { hosts: parsePushHosts(undefined), allowLoopback: false };
  it('accepts https endpoints of the known push services', () => {
    for (const e of [
      'https://fcm.googleapis.com/fcm/send/abc:def',
      'https://updates.push.services.mozilla.com/wpush/v2/gAAA',
      'https://web.push.apple.com/QGx',
      'https://wns2-by3p.notify.windows.com/w/?token=abc',
    ])
      expect(endpointRefusal(e, aws), e).toBeNull();
  });
  it('refuses other hosts, http, ports, credentials, look-alikes, and loopback by default (AWS)', () => {
    for (const e of [
      'http://127.0.0.1:9000/push/x',
      'http://localhost:9000/push/x',
      'https://127.0.0.1/push/x',
      'http://fcm.googleapis.com/fcm/send/x',
      'https://fcm.googleapis.com:444/fcm/send/x',
      'https://a:b@fcm.googleapis.com/x',
      'https://evilfcm.googleapis.com.attacker.net/x',
      'https://notify.windows.com/x',
      'https://169.254.169.254/',
      'gopher://fcm.googleapis.com/',
      'nonsense',
    ])
      expect(endpointRefusal(e, aws), e).not.toBeNull();
  });
  it('the local runtime alone also allows http loopback', () => {
    const local = { hosts: [...DEFAULT_PUSH_HOSTS], allowLoopback: true };
    expect(endpointRefusal('http://127.0.0.1:9000/push/x', local)).toBeNull();
    expect(endpointRefusal('http://localhost:1/push/x', local)).toBeNull();
    expect(endpointRefusal('http://10.0.0.2:9000/push/x', local)).not.toBeNull();
  });
  it('the allowlist is configurable; empty means the defaults', () => {
    expect(parsePushHosts('push.example.org, *.example.net')).toEqual(['push.example.org', '*.example.net']);
    expect(parsePushHosts('  ')).toEqual([...DEFAULT_PUSH_HOSTS]);
    const custom = { hosts: parsePushHosts('push.example.org'), allowLoopback: false };
    expect(endpointRefusal('https://push.example.org/x', custom)).toBeNull();
    expect(endpointRefusal('https://fcm.googleapis.com/x', custom)).not.toBeNull();
  });
});
