/**
 * End to end, in Chromium: notifications (issue 15) through the static web client, the local runtime and the
 * real services. The prompt after a first message, mute (the toggle, the list's icon, unread still counted),
 * mentions of me highlighted, the settings in the user menu (push on this device, hide message content).
 * One file, one stack, the scenarios in order.
 */

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, screenshot } from './checks.ts';
import { protocolClient, type Stack, startStack, uniqueName } from './harness.ts';
import { AuthPage, type ChatPage, TIMEOUT } from './pages.ts';

const PASSWORD = 'correct horse battery';
const poll = { timeout: TIMEOUT, interval: 100 };

let stack: Stack;
let aliceCtx: BrowserContext;
let bobCtx: BrowserContext;
let alicePage: Page;
let bobPage: Page;
let alice: ChatPage;
let bob: ChatPage;
const aliceName = uniqueName('alice');
const bobName = uniqueName('bob');
const carolName = uniqueName('carol');

/** The user menu, opened (on a phone it lives in the list). */
async function openMenu(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Account and settings' }).click();
  await page.getByTestId('push-status').waitFor({ timeout: TIMEOUT });
}

async function closeMenu(page: Page): Promise<void> {
  await page.keyboard.press('Escape');
  await page.getByTestId('push-status').waitFor({ state: 'detached', timeout: TIMEOUT });
}

function toggleState(page: Page, testId: string): Promise<string | null> {
  return page.getByTestId(testId).getAttribute('aria-checked');
}

describe('notifications, mute and mentions in the browser', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    stack = await startStack();
    aliceCtx = await stack.newContext();
    bobCtx = await stack.newContext();
    alicePage = await aliceCtx.newPage();
    bobPage = await bobCtx.newPage();
  }, 900_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('offers notifications after my first message, never on page load, and remembers "Not now"', async () => {
    alice = await new AuthPage(alicePage).signUp(aliceName, PASSWORD, 'Alice');
    bob = await new AuthPage(bobPage).signUp(bobName, PASSWORD, 'Bob');
    // the browser has not been asked: the page does not ask on load
    expect(await alicePage.evaluate(() => Notification.permission)).toBe('default');
    await alice.startDm(bobName, 'Bob');
    expect(await alicePage.getByTestId('push-prompt').count()).toBe(0);

    await alice.send('Hi Bob, are you there?');
    const prompt = alicePage.getByTestId('push-prompt');
    await prompt.waitFor({ timeout: TIMEOUT });
    expect(await prompt.textContent()).toContain('Get a notification when someone answers');
    expect(await axeViolations(alicePage)).toEqual([]);
    await screenshot(alicePage, 'push-prompt');
    // still not asked: only a click on "Turn on" would
    expect(await alicePage.evaluate(() => Notification.permission)).toBe('default');

    await prompt.getByRole('button', { name: 'Not now' }).click();
    await prompt.waitFor({ state: 'detached', timeout: TIMEOUT });
    await alicePage.reload();
    await alice.waitReady();
    await alice.open('Bob');
    await alice.send('Never mind, later.');
    await expect.poll(() => alice.delivery('Never mind, later.'), poll).toBe('sent');
    expect(await alicePage.getByTestId('push-prompt').count()).toBe(0);
  });

  it('mutes a conversation: the toggle, the muted icon in the list, unread still counted, kept on reload', async () => {
    await bob.open('Alice');
    const toggle = bobPage.getByTestId('mute-toggle');
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    expect(await bob.row('Alice').getByTestId('muted-icon').count()).toBe(0);
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-pressed'), poll).toBe('true');
    await bob.row('Alice').getByTestId('muted-icon').waitFor({ timeout: TIMEOUT });
    expect(await axeViolations(bobPage)).toEqual([]);

    // bob on his list: alice's messages still count as unread in the muted conversation
    await bobPage.goto('/chat');
    await bob.waitReady();
    await alice.send('One');
    await alice.send('Two');
    await expect.poll(() => bob.unreadCount('Alice'), poll).toBe(2);
    expect(await bob.row('Alice').getByTestId('muted-icon').getAttribute('title')).toBe('Muted');
    await screenshot(bobPage, 'conversation-list-muted');

    // the server keeps it
    await bobPage.reload();
    await bob.waitReady();
    await bob.row('Alice').getByTestId('muted-icon').waitFor({ timeout: TIMEOUT });
    await bob.open('Alice');
    expect(await bobPage.getByTestId('mute-toggle').getAttribute('aria-pressed')).toBe('true');
  });

  it('highlights mentions of me, not of others, not in code', async () => {
    const carol = await protocolClient(stack.runtime, carolName, PASSWORD, { displayName: 'Carol' });
    try {
      await alice.createGroup('Mentions', [bobName, carolName]);
      await alice.send(
        `Hey @${bobName}, can you review this? The handle is \`@${bobName}\`. cc @${carolName}`,
      );
      await bob.row('Mentions').waitFor({ timeout: TIMEOUT });
      await bob.open('Mentions');
      const message = bob.message('can you review this');
      await message.waitFor({ timeout: TIMEOUT });
      expect(await message.getAttribute('data-mentions-me')).toBe('true');
      const marks = message.locator('mark.mention');
      await expect.poll(() => marks.count(), poll).toBe(1);
      expect(await marks.textContent()).toBe(`@${bobName}`);
      expect(await message.locator('code').textContent()).toBe(`@${bobName}`);
      // alice wrote it: nothing of hers is mentioned
      expect(await alice.message('can you review this').locator('mark.mention').count()).toBe(0);
      expect(await alice.message('can you review this').getAttribute('data-mentions-me')).toBeNull();
      expect(await axeViolations(bobPage)).toEqual([]);
      await screenshot(bobPage, 'mention-light');
    } finally {
      carol.close();
    }
  });

  it('keeps "hide message content" on the server, from the user menu', async () => {
    await openMenu(bobPage);
    const hide = bobPage.getByTestId('hide-content-toggle');
    await expect.poll(() => hide.isEnabled(), poll).toBe(true);
    expect(await toggleState(bobPage, 'hide-content-toggle')).toBe('false');
    await hide.click();
    await expect.poll(() => toggleState(bobPage, 'hide-content-toggle'), poll).toBe('true');
    expect(await axeViolations(bobPage)).toEqual([]);
    await closeMenu(bobPage);

    await bobPage.reload();
    await bob.waitReady();
    await openMenu(bobPage);
    await expect.poll(() => toggleState(bobPage, 'hide-content-toggle'), poll).toBe('true');
    await closeMenu(bobPage);
  });
});
