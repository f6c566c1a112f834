/**
 * End to end, in Chromium: notifications (issue 15) through the static web client, the local runtime and the
 * real services. The prompt after a first message, mute (the toggle, the list's icon, unread still counted),
 * mentions of me highlighted, the settings in the user menu (push on this device, hide message content), and Web
 * Push through the real backend to the local push service emulator and into the app's service worker (see
 * push-browser.ts for what headless Chromium cannot do). One file, one stack, the scenarios in order.
 */

import path from 'node:path';
import type { PushPayload } from '@chat/functions/contracts';
import { repoRoot } from '@chat/kit/paths';
import { browserSubscription, type TestSubscription } from '@chat/local/testing';
import type { BrowserContext, Page, Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, screenshot } from './checks.ts';
import { protocolClient, type Stack, startStack, uniqueName } from './harness.ts';
import { AuthPage, type ChatPage, TIMEOUT } from './pages.ts';
import {
  clickNotification,
  deliverPush,
  serviceWorker,
  shownNotifications,
  usePushEmulator,
} from './push-browser.ts';

/** The local push service emulator (local/runtime/push-service.ts), as far as this file uses it. */
interface PushService {
  newEndpoint(): string;
  received(endpoint?: string): Array<{ status: number; refusal: string | null; body: Buffer }>;
  close(): Promise<void>;
}
// imported at run time, as harness.ts imports the runtime (its files are type-checked by another workspace)
const runtimeModule = path.join(repoRoot, 'local', 'runtime', 'index.ts');

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
let push: PushService;
let bobSub: TestSubscription;
let sw: Worker;
let dmId: string;
let groupId: string;

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
    stack = await startStack({ webPush: true });
    const runtime = (await import(runtimeModule)) as { startPushService(): Promise<PushService> };
    push = await runtime.startPushService();
    aliceCtx = await stack.newContext();
    bobCtx = await stack.newContext();
    alicePage = await aliceCtx.newPage();
    bobPage = await bobCtx.newPage();
  }, 900_000);

  afterAll(async () => {
    await stack?.stop();
    await push?.close();
  });

  it('offers notifications after my first message, never on page load, and remembers "Not now"', async () => {
    alice = await new AuthPage(alicePage).signUp(aliceName, PASSWORD, 'Alice');
    bob = await new AuthPage(bobPage).signUp(bobName, PASSWORD, 'Bob');
    // the browser has not been asked: the page does not ask on load
    expect(await alicePage.evaluate(() => Notification.permission)).toBe('default');
    await alice.startDm(bobName, 'Bob');
    expect(await alicePage.getByTestId('push-prompt').count()).toBe(0);
    // enough of bob's messages first that the timeline scrolls
    const conversationId = (await alice.row('Bob').getAttribute('data-conversation-id')) as string;
    const bulk = await protocolClient(stack.runtime, bobName, PASSWORD);
    try {
      await bulk.sendAll(
        conversationId,
        Array.from({ length: 20 }, (_, i) => `Catching up, part ${i + 1} of 20`),
      );
    } finally {
      bulk.close();
    }
    await alice.message('Catching up, part 20 of 20').waitFor({ timeout: TIMEOUT });

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

  it('on a phone, the prompt takes room from the timeline and the message just sent stays in view', async () => {
    // a small phone, as where it was seen (390 × 700, touch)
    const phoneCtx = await stack.newContext({ touch: true, viewport: { width: 390, height: 700 } });
    try {
      const phone = await phoneCtx.newPage();
      const me = await new AuthPage(phone).signIn(aliceName, PASSWORD);
      await me.open('Bob');
      await me.message('Catching up, part 20 of 20').waitFor({ timeout: TIMEOUT });
      await me.send(`Sent from my phone ${Date.now()}`);
      await phone.getByTestId('push-prompt').waitFor({ timeout: TIMEOUT });
      // the timeline stays at its bottom: a scroll event that measured the shorter timeline before the resize
      // observer ran used to leave it 84 px above, the new message's ✓ under the prompt and "jump to newest" shown
      const scroller = phone.getByTestId('message-scroller');
      await expect
        .poll(() => scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight), poll)
        .toBeLessThan(2);
      expect(await phone.getByTestId('jump-to-newest').count()).toBe(0);
      await phone.getByTestId('push-prompt').getByRole('button', { name: 'Not now' }).click();
    } finally {
      await phoneCtx.close();
    }
  });

  it('mutes a conversation: the toggle, the muted icon in the list, unread still counted, kept on reload', async () => {
    await bob.open('Alice');
    const toggle = bobPage.getByTestId('mute-toggle');
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    expect(await bob.row('Alice').getByTestId('muted-icon').count()).toBe(0);
    const saved = bobPage.waitForResponse(
      (r) => r.url().endsWith('/settings') && r.request().method() === 'PUT',
    );
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-pressed'), poll).toBe('true');
    expect((await saved).status()).toBe(200);
    await bob.row('Alice').getByTestId('muted-icon').waitFor({ timeout: TIMEOUT });
    expect(await axeViolations(bobPage)).toEqual([]);

    // bob on his list: alice's messages still count as unread in the muted conversation
    await bobPage.goto('/chat');
    await bob.waitReady();
    const before = await bob.unreadCount('Alice');
    await alice.send('One');
    await alice.send('Two');
    await expect.poll(() => bob.unreadCount('Alice'), poll).toBe(before + 2);
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
      // a group takes only people alice shares a conversation with (docs/adr/0012): a DM with carol first
      await alice.startDm(carolName, 'Carol');
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

  /** Bob's page leaves the app: no open connection, so the server pushes (alice's one tab stays connected). */
  async function bobAway(): Promise<void> {
    await bobPage.goto('about:blank');
    await expect.poll(() => stack.runtime.connections().length, poll).toBe(1);
  }

  async function bobBack(): Promise<void> {
    await bobPage.goto('/chat');
    await bob.waitReady();
  }

  /** The pushes the emulator accepted for bob's subscription, decrypted. */
  function bobPushes(): PushPayload[] {
    return push
      .received(bobSub.endpoint)
      .filter((r) => r.status === 201)
      .map((r) => JSON.parse(bobSub.decrypt(r.body)) as PushPayload);
  }

  it('turns push on from the user menu: the worker registers, the server keeps the subscription', async () => {
    dmId = (await alice.row('Bob').getAttribute('data-conversation-id')) as string;
    groupId = (await alice.row('Mentions').getAttribute('data-conversation-id')) as string;
    bobSub = browserSubscription(push.newEndpoint());
    await bobCtx.grantPermissions(['notifications']);
    await usePushEmulator(bobCtx, bobSub);
    await bobPage.reload();
    await bob.waitReady();

    await openMenu(bobPage);
    const status = bobPage.getByTestId('push-status');
    await expect.poll(() => status.textContent(), poll).toContain('Get notified on this device');
    expect(await toggleState(bobPage, 'push-toggle')).toBe('false');
    await bobPage.getByTestId('push-toggle').click();
    await expect.poll(() => toggleState(bobPage, 'push-toggle'), poll).toBe('true');
    expect(await status.textContent()).toContain('On for this device');
    expect(await axeViolations(bobPage)).toEqual([]);
    await screenshot(bobPage, 'notification-settings');
    await closeMenu(bobPage);
    sw = await serviceWorker(bobCtx);

    // bob away; the DM is muted and he hides message content: alice's plain message pushes nothing, her
    // mention of him pushes "New message" (and nothing of the text)
    await bobAway();
    await alice.open('Bob');
    await alice.send('Plain news, nothing urgent');
    await alice.send(`@${bobName} please call me`);
    await expect.poll(() => bobPushes().length, poll).toBe(1);
    const [mention] = bobPushes();
    expect(mention).toMatchObject({
      conversationId: dmId,
      hidden: true,
      conversationTitle: null,
      senderName: null,
      snippet: null,
    });
    expect(push.received(bobSub.endpoint).every((r) => r.refusal === null)).toBe(true);

    // the worker shows it as the push service would deliver it
    await deliverPush(bobPage, sw, stack.url, JSON.stringify(mention));
    await expect
      .poll(async () => (await shownNotifications(sw)).find((n) => n.tag === `conversation:${dmId}`), poll)
      .toMatchObject({ title: 'New message', body: '', icon: `${stack.url}/icon-192.png` });
  });

  it('shows the sender and the text when content is not hidden; a click opens the conversation', async () => {
    await bobBack();
    await openMenu(bobPage);
    await expect.poll(() => bobPage.getByTestId('hide-content-toggle').isEnabled(), poll).toBe(true);
    await bobPage.getByTestId('hide-content-toggle').click();
    await expect.poll(() => toggleState(bobPage, 'hide-content-toggle'), poll).toBe('false');
    await closeMenu(bobPage);

    await bobAway();
    await alice.open('Mentions');
    await alice.send('Lunch at noon? **Pizza** place');
    await expect.poll(() => bobPushes().length, poll).toBe(2);
    const lunch = bobPushes()[1] as PushPayload;
    expect(lunch).toMatchObject({
      conversationId: groupId,
      conversationTitle: 'Mentions',
      senderName: 'Alice',
      hidden: false,
      mention: false,
    });
    expect(lunch.snippet).toContain('Lunch at noon?');

    // bob back on his list, then the push shown (the worker shows every push, tab open or not: delivered here,
    // just before the click, because headless Chromium closes a notification by itself about 25 s after it
    // shows); the click on the notification brings that tab to the conversation
    await bobBack();
    await deliverPush(bobPage, sw, stack.url, JSON.stringify(lunch));
    await expect
      .poll(async () => (await shownNotifications(sw)).find((n) => n.tag === `conversation:${groupId}`), poll)
      .toMatchObject({
        title: 'Mentions',
        body: expect.stringMatching(/^Alice: Lunch at noon\?/),
        data: { conversationId: groupId, path: `/chat?c=${groupId}` },
      });
    await clickNotification(sw, `conversation:${groupId}`);
    await bobPage.waitForURL((u) => u.searchParams.get('c') === groupId, { timeout: TIMEOUT });
    await bobPage.getByTestId('chat-title').filter({ hasText: 'Mentions' }).waitFor({ timeout: TIMEOUT });
    // and the notification is gone
    await expect
      .poll(async () => (await shownNotifications(sw)).some((n) => n.tag === `conversation:${groupId}`), poll)
      .toBe(false);
  });

  it('sign-out stops the pushes to this device; signing in again here resumes them', async () => {
    await bob.signOut();
    await expect.poll(() => stack.runtime.connections().length, poll).toBe(1);
    await alice.send('Sent while Bob is signed out');
    // the page registers the subscription again on load, for the user who turned push on here
    const registered = bobPage.waitForResponse(
      (r) => r.url().endsWith('/me/push-subscriptions') && r.request().method() === 'POST',
      { timeout: TIMEOUT },
    );
    await new AuthPage(bobPage).signIn(bobName, PASSWORD);
    expect((await registered).status()).toBe(201);
    await bobAway();
    await alice.send('Welcome back, Bob');
    await expect.poll(() => bobPushes().length, poll).toBe(3);
    // the message sent while he was signed out pushed nothing: the next push is the later one
    expect(bobPushes()[2]?.snippet).toBe('Welcome back, Bob');
  });

  it('turns push off from the user menu: the browser and the server forget the subscription', async () => {
    await bobBack();
    await openMenu(bobPage);
    await expect.poll(() => toggleState(bobPage, 'push-toggle'), poll).toBe('true');
    await bobPage.getByTestId('push-toggle').click();
    await expect.poll(() => toggleState(bobPage, 'push-toggle'), poll).toBe('false');
    expect(
      await bobPage.evaluate(async () =>
        (await navigator.serviceWorker.ready).pushManager.getSubscription().then((s) => s === null),
      ),
    ).toBe(true);
    await closeMenu(bobPage);
    await bobAway();
    // a barrier: another device of bob's (registered over the API) receives what this one would have
    const other = browserSubscription(push.newEndpoint());
    const api = stack.runtime.httpUrl;
    const login = await fetch(`${api}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: bobName, password: PASSWORD }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const registered = await fetch(`${api}/me/push-subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ endpoint: other.endpoint, keys: other.keys }),
    });
    expect(registered.status).toBe(201);
    await alice.send('Nobody hears this on the old device');
    await expect.poll(() => push.received(other.endpoint).length, poll).toBe(1);
    expect(JSON.parse(other.decrypt(push.received(other.endpoint)[0]?.body as Buffer)).snippet).toContain(
      'Nobody hears this',
    );
    expect(bobPushes()).toHaveLength(3);
  });
});
