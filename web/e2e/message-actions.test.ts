/**
 * End to end, in a real browser (issue 14): messages people can change. Alice (light, desktop) and Bob (dark,
 * desktop; later also on a phone) use the message menu by keyboard, hover and long press: react (quick row,
 * picker, chips), reply (quote, scroll to the original), edit inline (Escape cancels), delete (confirmed), and
 * attach files by button, drop and paste (upload progress, thumbnails, download chips); an edit made offline
 * waits in the outbox. One stack, the scenarios in order, over the local runtime and the real services (S3
 * included).
 */

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Actions, gradientPng } from './actions.ts';
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
let a: Actions;
let b: Actions;
const aliceName = uniqueName('alice');
const bobName = uniqueName('bob');
/** Bob's console errors (a failing image load says why). */
const bobConsole: string[] = [];

describe('message actions: react, reply, edit, delete, attach', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    stack = await startStack();
    aliceCtx = await stack.newContext();
    bobCtx = await stack.newContext({ dark: true });
    alicePage = await aliceCtx.newPage();
    bobPage = await bobCtx.newPage();
    bobPage.on('console', (m) => m.type() === 'error' && bobConsole.push(m.text()));
    alice = await new AuthPage(alicePage).signUp(aliceName, PASSWORD, 'Alice');
    bob = await new AuthPage(bobPage).signUp(bobName, PASSWORD, 'Bob');
    a = new Actions(alice);
    b = new Actions(bob);
    await alice.startDm(bobName, 'Bob');
    await alice.send('Lunch at noon?');
    await bob.row('Alice').waitFor({ timeout: TIMEOUT });
    await bob.open('Alice');
    await bob.send('Sounds good, the usual place');
    await alice.message('the usual place').waitFor({ timeout: TIMEOUT });
  }, 900_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('opens the menu by keyboard: arrows move, Escape closes and gives the focus back', async () => {
    const button = a.message('Lunch at noon?').getByRole('button', { name: 'Message actions' });
    await button.focus();
    await alicePage.keyboard.press('Enter');
    await a.menu().waitFor({ timeout: TIMEOUT });
    expect(await button.getAttribute('aria-expanded')).toBe('true');
    expect(await a.focusedName()).toBe('React with 👍');
    await alicePage.keyboard.press('End');
    expect(await a.focusedName()).toContain('Delete');
    await alicePage.keyboard.press('ArrowDown');
    expect(await a.focusedName()).toBe('React with 👍');
    await alicePage.keyboard.press('ArrowUp');
    await alicePage.keyboard.press('ArrowUp');
    expect(await a.focusedName()).toContain('Edit');
    // my own message: reply, react, edit, delete
    const items = await a.menu().getByRole('menuitem').allTextContents();
    expect(items.join('|')).toMatch(/More reactions.*Reply.*Edit.*Delete/);
    expect(await axeViolations(alicePage)).toEqual([]);
    await screenshot(alicePage, 'actions-menu-light', { keepFocus: true });
    await alicePage.keyboard.press('Escape');
    await a.menu().waitFor({ state: 'detached', timeout: TIMEOUT });
    expect(await button.evaluate((el) => el === document.activeElement)).toBe(true);
    // someone else's message: no edit, no delete
    const theirs = await a.openMenu('the usual place');
    expect(await theirs.getByRole('menuitem', { name: /Edit|Delete/ }).count()).toBe(0);
    await alicePage.keyboard.press('Escape');
  });

  it("copies a message's text from its menu (what a long press on a phone would otherwise select)", async () => {
    await aliceCtx.grantPermissions(['clipboard-read', 'clipboard-write']);
    // a mouse selects text as ever
    expect(
      await a
        .message('the usual place')
        .getByTestId('bubble')
        .evaluate((el) => getComputedStyle(el).userSelect),
    ).not.toBe('none');
    await a.choose('the usual place', /Copy text/);
    // it says so, then closes
    await a
      .menu()
      .getByRole('menuitem', { name: /Copied/ })
      .waitFor({ timeout: TIMEOUT });
    await a.menu().waitFor({ state: 'detached', timeout: TIMEOUT });
    expect(await alicePage.evaluate(() => navigator.clipboard.readText())).toBe(
      'Sounds good, the usual place',
    );
  });

  it('reacts from the picker and the quick row; chips count on both sides and toggle mine', async () => {
    await a.choose('the usual place', /More reactions/);
    await a.menu().getByRole('menuitem', { name: 'React with 🔥' }).click();
    await expect.poll(() => a.chipState('the usual place', '🔥'), poll).toBe('1:true');
    await expect.poll(() => b.chipState('the usual place', '🔥'), poll).toBe('1:false');
    // bob joins in with the chip, then takes it back
    await b.chip('the usual place', '🔥').click();
    await expect.poll(() => b.chipState('the usual place', '🔥'), poll).toBe('2:true');
    await expect.poll(() => a.chipState('the usual place', '🔥'), poll).toBe('2:true');
    // who reacted: each reads "You" for themselves
    expect((await b.chip('the usual place', '🔥').getAttribute('title'))?.split(', ').sort()).toEqual([
      'Alice',
      'You',
    ]);
    expect((await a.chip('the usual place', '🔥').getAttribute('title'))?.split(', ').sort()).toEqual([
      'Bob',
      'You',
    ]);
    await b.chip('the usual place', '🔥').click();
    await expect.poll(() => a.chipState('the usual place', '🔥'), poll).toBe('1:true');
    await expect.poll(() => b.chipState('the usual place', '🔥'), poll).toBe('1:false');
    // the quick row, on the other message
    await b.choose('Lunch at noon?', 'React with 👍');
    await expect.poll(() => a.chipState('Lunch at noon?', '👍'), poll).toBe('1:false');
    expect(await axeViolations(bobPage)).toEqual([]);
    await screenshot(bobPage, 'reactions-dark');
  });

  it('edits inline: Escape cancels, Enter saves, and both sides show "edited"', async () => {
    await alice.send('See you at 12:30');
    await alice.message('See you at 12:30').waitFor({ timeout: TIMEOUT });
    await expect.poll(() => alice.delivery('See you at 12:30'), poll).not.toBe('sending');
    await a.choose('See you at 12:30', 'Edit');
    await a.editor().waitFor({ timeout: TIMEOUT });
    expect(await a.editor().evaluate((el) => el === document.activeElement)).toBe(true);
    await a.editor().fill('never mind');
    await alicePage.keyboard.press('Escape');
    await a.editor().waitFor({ state: 'detached', timeout: TIMEOUT });
    expect(await a.message('See you at 12:30').getByTestId('edited').count()).toBe(0);
    // the focus is back on the message's actions
    expect(await a.focusedName()).toBe('Message actions');

    await a.choose('See you at 12:30', 'Edit');
    await a.editor().fill('See you at 12:45');
    expect(await axeViolations(alicePage)).toEqual([]);
    await screenshot(alicePage, 'edit-inline-light', { keepFocus: true });
    await alicePage.keyboard.press('Enter');
    await a.message('See you at 12:45').getByTestId('edited').waitFor({ timeout: TIMEOUT });
    await b.message('See you at 12:45').getByTestId('edited').waitFor({ timeout: TIMEOUT });
    expect(await bob.message('See you at 12:30').count()).toBe(0);
  });

  it('replies with a quote of the original; a click on the quote scrolls to it', async () => {
    // enough messages after the original that it scrolls out of sight
    const carol = await protocolClient(stack.runtime, bobName, PASSWORD);
    try {
      const convId = (await alice.row('Bob').getAttribute('data-conversation-id')) as string;
      const fillers = Array.from({ length: 30 }, (_, i) => `filler ${i + 1} of 30`);
      await carol.sendAll(convId, fillers);
    } finally {
      await carol.close();
    }
    await alice.message('filler 30 of 30').waitFor({ timeout: TIMEOUT });
    // the original, by id (the reply will quote its text too)
    const originalId = (await b.message('Lunch at noon?').getAttribute('data-message-id')) as string;
    await a.choose('Lunch at noon?', 'Reply');
    const bar = alicePage.getByTestId('replying-to');
    await bar.waitFor({ timeout: TIMEOUT });
    expect(await bar.textContent()).toContain('Lunch at noon?');
    // her own message: not her name
    expect(await bar.textContent()).toContain('Replying to yourself');
    expect(await alice.composer().evaluate((el) => el === document.activeElement)).toBe(true);
    await alice.composer().fill('Or 1 pm, if that works better');
    await alice.composer().press('Enter');
    await bar.waitFor({ state: 'detached', timeout: TIMEOUT });

    const quote = b.message('if that works better').getByTestId('reply-quote');
    await quote.waitFor({ timeout: TIMEOUT });
    // the quote names the original's sender: alice for bob, "You" for alice
    expect(await quote.textContent()).toMatch(/^Reply to Alice: Lunch at noon\?/);
    await expect
      .poll(() => a.message('if that works better').getByTestId('reply-quote').textContent(), poll)
      .toMatch(/^Reply to You: Lunch at noon\?/);
    await bobPage.getByTestId('message-scroller').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await expect.poll(() => b.inView(originalId), poll).toBe(false);
    await screenshot(bobPage, 'reply-dark');
    await quote.click();
    await expect.poll(() => b.inView(originalId), poll).toBe(true);
    expect(await b.byId(originalId).evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await axeViolations(bobPage)).toEqual([]);
  });

  it('deletes after a confirmation; both sides show the placeholder', async () => {
    await alice.send('Wrong chat, sorry');
    await expect.poll(() => alice.delivery('Wrong chat, sorry'), poll).not.toBe('sending');
    await bob.message('Wrong chat, sorry').waitFor({ timeout: TIMEOUT });
    const dialog = alicePage.getByRole('dialog', { name: 'Delete message?' });
    await a.choose('Wrong chat, sorry', 'Delete');
    await dialog.waitFor({ timeout: TIMEOUT });
    expect(await axeViolations(alicePage)).toEqual([]);
    await screenshot(alicePage, 'delete-confirm-light', { keepFocus: true });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: TIMEOUT });
    expect(await alice.message('Wrong chat, sorry').count()).toBe(1);

    const id = await a.message('Wrong chat, sorry').getAttribute('data-message-id');
    await a.choose('Wrong chat, sorry', 'Delete');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    const placeholder = (page: Page) =>
      page.locator(`[data-message-id="${id}"]`).getByTestId('deleted').textContent({ timeout: TIMEOUT });
    expect(await placeholder(alicePage)).toBe('Message deleted');
    expect(await placeholder(bobPage)).toBe('Message deleted');
    expect(await bob.message('Wrong chat, sorry').count()).toBe(0);
    // a deleted message has no menu
    expect(await alicePage.locator(`[data-message-id="${id}"] [data-testid="message-actions"]`).count()).toBe(
      0,
    );
  });

  it('attaches an image by button with upload progress; the peer sees a thumbnail that opens it', async () => {
    const chooser = alicePage.waitForEvent('filechooser');
    await alicePage.getByRole('button', { name: 'Attach files' }).click();
    await (await chooser).setFiles({
      name: 'sunset.png',
      mimeType: 'image/png',
      buffer: gradientPng(480, 300, [255, 120, 40], [80, 40, 160]),
    });
    const upload = a.uploads().filter({ hasText: 'sunset.png' });
    await upload.getByRole('progressbar', { name: 'Uploading sunset.png' }).waitFor({ timeout: TIMEOUT });
    await expect.poll(() => upload.getAttribute('data-state'), poll).toBe('done');
    expect(await upload.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    expect(await axeViolations(alicePage)).toEqual([]);
    await screenshot(alicePage, 'upload-light');
    await alice.composer().fill('The view from the office');
    await alice.composer().press('Enter');
    await a.uploads().first().waitFor({ state: 'detached', timeout: TIMEOUT });

    // bob scrolled up to the original before: back to the newest
    await bobPage.getByTestId('message-scroller').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    const thumb = b.message('The view from the office').getByTestId('attachment-image');
    await thumb.waitFor({ state: 'attached', timeout: TIMEOUT });
    const loaded = () =>
      thumb.locator('img').evaluate((img: HTMLImageElement) => `${img.complete}:${img.naturalWidth}`);
    await expect.poll(loaded, { ...poll, message: `console: ${bobConsole.join(' | ')}` }).toBe('true:480');
    expect(await thumb.getAttribute('aria-label')).toBe('Open image sunset.png');
    await screenshot(bobPage, 'attachment-image-dark');
    const opened = bobCtx.waitForEvent('page');
    await thumb.click();
    const tab = await opened;
    await tab.waitForLoadState('load');
    expect(tab.url()).toContain('sunset.png');
    expect(await tab.evaluate(() => document.contentType)).toBe('image/png');
    await tab.close();
  });

  it('attaches files by drag-and-drop and by paste; the peer gets download chips', async () => {
    await a.dropFiles([{ name: 'agenda.txt', type: 'text/plain', text: '1. lunch\n2. more lunch\n' }]);
    await a.pasteFiles([{ name: 'menu.csv', type: 'text/csv', text: 'dish,price\nsoup,4\n' }]);
    await expect.poll(() => a.uploads().count(), poll).toBe(2);
    for (const name of ['agenda.txt', 'menu.csv'])
      await expect
        .poll(() => a.uploads().filter({ hasText: name }).getAttribute('data-state'), poll)
        .toBe('done');
    // files alone, no text
    await alicePage.getByRole('button', { name: 'Send message' }).click();
    const chips = bobPage.getByTestId('attachment-file');
    await expect
      .poll(() => chips.allTextContents(), poll)
      .toEqual([expect.stringContaining('agenda.txt'), expect.stringContaining('menu.csv')]);
    const agenda = chips.filter({ hasText: 'agenda.txt' });
    expect(await agenda.getAttribute('download')).toBe('agenda.txt');
    expect(await agenda.getAttribute('href')).toMatch(/^http/);
    expect(await axeViolations(bobPage)).toEqual([]);
    await screenshot(bobPage, 'attachment-files-dark');
  });

  it('opens the menu with a long press on a phone', async () => {
    const phoneCtx = await stack.newContext({ phone: true, touch: true, dark: true });
    try {
      const phone = await phoneCtx.newPage();
      const chat = await new AuthPage(phone).signIn(bobName, PASSWORD);
      await chat.open('Alice');
      const p = new Actions(chat);
      const bubble = p.message('See you at 12:45').getByTestId('bubble');
      await bubble.scrollIntoViewIfNeeded();
      const box = await bubble.boundingBox();
      if (!box) throw new Error('no bubble on screen');
      const cdp = await phoneCtx.newCDPSession(phone);
      const longPress = async (at: { x: number; y: number; width: number; height: number }) => {
        const point = { x: at.x + at.width / 2, y: at.y + Math.min(at.height / 2, 20) };
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [point] });
        // held until the menu shows
        await p.menu().waitFor({ timeout: TIMEOUT });
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      };
      // the browser's own selection and callout stay out of the way of the long press (the menu copies text)
      expect(await bubble.evaluate((el) => getComputedStyle(el).userSelect)).toBe('none');
      await longPress(box);
      expect(await axeViolations(phone)).toEqual([]);
      await screenshot(phone, 'long-press-menu-phone-dark', { keepFocus: true });
      await p.menu().getByRole('menuitem', { name: 'React with 😂' }).click();
      await expect.poll(() => a.chipState('See you at 12:45', '😂'), poll).toBe('1:false');
      // a short tap opens nothing
      await p.message('the usual place').getByTestId('bubble').tap();
      expect(await p.menu().count()).toBe(0);
      // the newest message, at the bottom of the timeline: its menu opens above it, all of it on screen
      // (below it, it ran past the timeline's bottom edge and showed only its first row)
      const scroller = phone.getByTestId('message-scroller');
      await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
      const newest = await phone.getByTestId('message').last().getByTestId('bubble').boundingBox();
      if (!newest) throw new Error('no newest bubble on screen');
      await longPress(newest);
      const view = await scroller.boundingBox();
      const menu = await p.menu().boundingBox();
      expect(menu && view && menu.y >= view.y && menu.y + menu.height <= view.y + view.height).toBe(true);
      expect(await p.menu().getAttribute('data-placement')).toBe('above');
      await screenshot(phone, 'long-press-menu-newest-phone-dark', { keepFocus: true });
      // a tap elsewhere (the composer) closes it
      await phone.locator('textarea[data-composer]').tap();
      await p.menu().waitFor({ state: 'detached', timeout: TIMEOUT });
    } finally {
      await phoneCtx.close();
    }
  });

  it('an edit made offline waits in the outbox and applies on reconnect', async () => {
    await aliceCtx.setOffline(true);
    try {
      await expect.poll(() => alice.connectionState(), poll).toBe('offline');
      await a.choose('See you at 12:45', 'Edit');
      await a.editor().fill('See you at 13:00');
      await alicePage.keyboard.press('Enter');
      // shown at once, marked as waiting; bob still has the old text
      const mine = a.message('See you at 13:00');
      await mine.waitFor({ timeout: TIMEOUT });
      expect(await mine.getAttribute('data-changing')).toBe('true');
      expect(await bob.message('See you at 13:00').count()).toBe(0);
      expect(await bob.message('See you at 12:45').count()).toBe(1);
      // the list's preview says "Sending…" for a message on its way, never for a change of an older one
      expect(await alice.preview('Bob').textContent()).not.toBe('Sending…');
    } finally {
      await aliceCtx.setOffline(false);
    }
    await b.message('See you at 13:00').getByTestId('edited').waitFor({ timeout: TIMEOUT });
    await expect.poll(() => a.message('See you at 13:00').getAttribute('data-changing'), poll).toBeNull();
    // history shows the current state: a fresh load has the edit and the reactions
    await bobPage.reload();
    await bob.waitReady();
    await bob.open('Alice');
    await b.message('See you at 13:00').getByTestId('edited').waitFor({ timeout: TIMEOUT });
    expect(await b.chipState('See you at 13:00', '😂')).toBe('1:true');
    expect(await b.message('if that works better').getByTestId('reply-quote').textContent()).toContain(
      'Lunch at noon?',
    );
    await screenshot(alicePage, 'conversation-light');
    await screenshot(bobPage, 'conversation-dark');
  });

  it('says "retrying…" on a message the server refused as unavailable, and delivers it once when it takes it', async () => {
    // a backing service down, as the protocol reports it (an `unavailable` error naming the clientMsgId; the client
    // resends with the same one): alice's socket goes through a route that answers the first two sends of this
    // text itself and passes everything else on. (The server's own refusal, with Redis unreachable, is tested in
    // functions/test/realtime-handlers.test.ts.)
    const text = 'Sent while the server was busy';
    const wsPort = new URL(stack.runtime.wsUrl).port;
    let refusals = 0;
    await alicePage.routeWebSocket(
      (u) => u.port === wsPort,
      (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((m) => {
          let frame: { action?: string; body?: string; clientMsgId?: string } | null = null;
          try {
            frame = typeof m === 'string' ? JSON.parse(m) : null;
          } catch {
            frame = null;
          }
          if (frame?.action === 'sendMessage' && frame.body === text && refusals < 2) {
            refusals++;
            ws.send(
              JSON.stringify({
                type: 'error',
                code: 'unavailable',
                message: 'A service is unavailable. Try again.',
                clientMsgId: frame.clientMsgId,
              }),
            );
            return;
          }
          server.send(m);
        });
      },
    );
    await alicePage.reload();
    await alice.waitReady();
    await alice.open('Bob');
    await alice.send(text);
    await alice.message(text).getByTestId('retrying').waitFor({ timeout: TIMEOUT });
    expect(await alice.delivery(text)).toBe('sending');
    await bob.message(text).waitFor({ timeout: TIMEOUT });
    await expect.poll(() => alice.delivery(text), poll).not.toBe('sending');
    expect(await alice.message(text).getByTestId('retrying').count()).toBe(0);
    expect(refusals).toBe(2);
    expect(await bob.message(text).count()).toBe(1);
    expect(await alice.message(text).count()).toBe(1);
  });
});
