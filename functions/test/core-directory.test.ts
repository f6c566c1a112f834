import { describe, expect, it } from 'vitest';
import type { Presence, User } from '#contracts/models.ts';
import { type DirectoryPorts, presence, searchUsers } from '#core/directory.ts';
import { ChatError } from '#core/errors.ts';

// Pure unit tests of the directory core over in-memory ports: presence only between people who share a
// conversation (the HTTP rule; the e2e test presence-privacy.e2e.test.ts shows it over the public API).
const user = (id: string): User => ({ id, username: `user_${id}`, displayName: id });

function fakePorts(contacts: Record<string, string[]>): DirectoryPorts {
  return {
    searchByPrefix: async (q) => [user(`${q}1`), user(`${q}2`), user('me')],
    presenceOf: async (ids) =>
      ids.map((userId): Presence => ({ userId, online: userId.endsWith('1'), lastSeenAt: null })),
    contactIds: async (u) => contacts[u] ?? [],
  };
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof ChatError ? e.code : String(e);
  }
};

describe('directory core', () => {
  it("shows contacts' and the asker's online flag, no flag for strangers", async () => {
    const ports = fakePorts({ me: ['zed1'] });
    expect(await searchUsers(ports, 'me', 'zed')).toEqual([
      { ...user('zed1'), online: true },
      user('zed2'),
      { ...user('me'), online: false },
    ]);
  });

  it('answers presence of contacts (and the asker) only; strangers are left out', async () => {
    const ports = fakePorts({ me: ['a1', 'b2'] });
    expect((await presence(ports, 'me', 'a1, b2,,a1,x1,me')).map((p) => p.userId)).toEqual([
      'a1',
      'b2',
      'me',
    ]);
    expect(await presence(fakePorts({}), 'me', 'a1,b2')).toEqual([]);
    expect(await presence(ports, 'me', ' , ')).toEqual([]);
  });

  it('caps presence at 100 ids', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `u${i}`).join(',');
    expect(await codeOf(presence(fakePorts({}), 'me', many))).toBe('validation_failed');
  });
});
