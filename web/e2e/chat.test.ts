/**
 * End to end, in a real browser: two people (two browser contexts) sign up and chat through the static web
 * client, the local runtime and the real services. One file, one stack, the scenarios in order.
 */

import { seedDemo } from '@chat/local/seed';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUDGET_KB, measure } from '../scripts/bundle-size.ts';
import { axeViolations, screenshot, smallText } from './checks.ts';
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
const dialogs: string[] = [];
/** Chromium's warning for a `<link rel="preload">` whose response no request used (a wasted download). */
const unusedPreloads: string[] = [];
/**
 * Per person: documents loaded (goto, reload) and the requests for /config.json that a `<link rel="preload">` made
 * (Playwright's resource type "other"; the push client's own fetch of it, lib/push/client.ts, is a "fetch").
 */
const loads = { alice: { documents: 0, preloads: 0 }, bob: { documents: 0, preloads: 0 } };

describe('web client, two people in two browsers', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    stack = await startStack();
    aliceCtx = await stack.newContext();
    bobCtx = await stack.newContext();
    alicePage = await aliceCtx.newPage();
    bobPage = await bobCtx.newPage();
    for (const [p, count] of [
      [alicePage, loads.alice],
      [bobPage, loads.bob],
    ] as const) {
      p.on('dialog', (d) => dialogs.push(d.message()) && void d.dismiss());
      p.on('request', (r) => {
        if (r.isNavigationRequest() && r.frame() === p.mainFrame()) count.documents++;
        if (new URL(r.url()).pathname === '/config.json' && r.resourceType() === 'other') count.preloads++;
      });
      p.on('console', (m) => {
        if (/preloaded using link preload but not used/.test(m.text())) unusedPreloads.push(m.text());
      });
    }
  }, 900_000);

  afterAll(async () => {
    await stack?.stop();
  });

  // a size, not a timing: the export startStack() built (or found fresh) must stay within the budget
  it(`loads at most ${BUDGET_KB} KB of JavaScript (gzip) before /chat is interactive`, () => {
    const report = measure({ page: '/chat' });
    expect(report.chunks.length).toBeGreaterThan(0);
    expect(report.totalGzipKb).toBeLessThanOrEqual(BUDGET_KB);
  });

  it('signs up, with an accessible sign-in screen', async () => {
    const auth = new AuthPage(alicePage);
    await auth.gotoSignIn();
    expect(await axeViolations(alicePage)).toEqual([]);
    await screenshot(alicePage, 'sign-in');

    alice = await auth.signUp(aliceName, PASSWORD, 'Alice');
    bob = await new AuthPage(bobPage).signUp(bobName, PASSWORD, 'Bob');
    expect(await alice.connectionState()).toBe('open');
    expect(await bob.connectionState()).toBe('open');
  });

  it('starts a DM and exchanges messages in real time, with unread badges that count and clear', async () => {
    await alice.startDm(bobName, 'Bob');
    await alice.send('Hi Bob! Are we still on for **Friday**?');
    await expect.poll(() => alice.delivery('Are we still on'), poll).toBe('sent'); // ✓ persisted

    // bob is on his list (no conversation open): the DM appears live, with a badge that counts
    await bob.row('Alice').waitFor({ timeout: TIMEOUT });
    await expect.poll(() => bob.unreadCount('Alice'), poll).toBe(1);
    await alice.send('I booked the table for 7 pm.');
    await expect.poll(() => bob.unreadCount('Alice'), poll).toBe(2);
    await expect.poll(() => bob.preview('Alice').textContent(), poll).toContain('I booked the table');
    expect(await alice.delivery('I booked the table')).not.toBe('read');

    // bob opens it: the badge clears, and alice's ✓ turns ✓✓
    await bob.open('Alice');
    await bob.message('I booked the table').waitFor({ timeout: TIMEOUT });
    await expect.poll(() => bob.unreadCount('Alice'), poll).toBe(0);
    await expect.poll(() => alice.delivery('I booked the table'), poll).toBe('read');
    await expect.poll(() => alice.delivery('Are we still on'), poll).toBe('read');
    const tooltip = await alice
      .message('I booked the table')
      .locator('[title^="Read by"]')
      .getAttribute('title');
    expect(tooltip).toContain('Bob');

    // and back
    await bob.send('Yes! See you there 🎉');
    await alice.message('See you there').waitFor({ timeout: TIMEOUT });
    expect(await alice.messages().count()).toBe(3);
    expect(await bob.messages().count()).toBe(3);
  });

  it('shows and hides the typing indicator', async () => {
    await alice.open('Bob');
    await bob.composer().pressSequentially('Let me check', { delay: 20 });
    await alice.typingIndicator().waitFor({ timeout: TIMEOUT });
    expect(await alice.typingIndicator().textContent()).toContain('Bob is typing');
    await bob.composer().fill('');
    await alice.typingIndicator().waitFor({ state: 'detached', timeout: TIMEOUT });
  });

  it('creates a group with a title and members; ✓✓ waits for everyone, and says who read', async () => {
    const carol = await protocolClient(stack.runtime, carolName, PASSWORD, { displayName: 'Carol' });
    try {
      // a group takes only people alice shares a conversation with (docs/adr/0012): a DM with carol first
      await alice.startDm(carolName, 'Carol');
      await alice.createGroup('Weekend trip', [bobName, carolName]);
      await alice.send("Who's in for hiking on Saturday? 🥾");
      await expect.poll(() => alice.delivery('hiking on Saturday'), poll).toBe('sent');

      // bob is in his DM with alice: the group appears in his list, with a badge
      await bob.row('Weekend trip').waitFor({ timeout: TIMEOUT });
      await expect.poll(() => bob.unreadCount('Weekend trip'), poll).toBe(1);

      // carol answers (so she read it): read by some, not all
      const groupId = (await alice.row('Weekend trip').getAttribute('data-conversation-id')) as string;
      await carol.sendAll(groupId, ["I'm in! I'll bring snacks."]);
      await alice.message('bring snacks').waitFor({ timeout: TIMEOUT });
      expect(await alice.message('bring snacks').textContent()).toContain('Carol');
      await expect.poll(() => alice.delivery('hiking on Saturday'), poll).toBe('partial');
      expect(
        await alice.message('hiking on Saturday').locator('[title^="Read by"]').getAttribute('title'),
      ).toBe('Read by Carol');

      // bob opens it: read by everyone
      await bob.open('Weekend trip');
      await expect.poll(() => alice.delivery('hiking on Saturday'), poll).toBe('read');

      // `@` suggests the group's members (never me); Escape dismisses; `@car` then Enter inserts carol's username
      const mentions = bobPage.getByRole('listbox', { name: 'Mention someone' });
      await bob.composer().pressSequentially('@', { delay: 20 });
      await expect
        .poll(() => mentions.getByRole('option').allTextContents(), poll)
        .toEqual([`Alice@${aliceName}`, `Carol@${carolName}`]);
      await bob.composer().press('Escape');
      await expect.poll(() => mentions.count(), poll).toBe(0);
      await bob.composer().fill('');
      await bob.composer().pressSequentially('@car', { delay: 20 });
      await expect
        .poll(() => mentions.getByRole('option').allTextContents(), poll)
        .toEqual([`Carol@${carolName}`]);
      expect(await axeViolations(bobPage)).toEqual([]);
      await screenshot(bobPage, 'mention-suggestions', { keepFocus: true });
      await bob.composer().press('Enter');
      expect(await bob.composer().inputValue()).toBe(`@${carolName} `);
      expect(await mentions.count()).toBe(0);
      await bob.composer().pressSequentially('can you bring the map?', { delay: 5 });
      await bob.composer().press('Enter');
      await alice.message('bring the map').waitFor({ timeout: TIMEOUT });
      expect(await alice.message('bring the map').textContent()).toContain(
        `@${carolName} can you bring the map?`,
      );
      await bob.send('Count me in 🙌');
      await alice.message('Count me in').waitFor({ timeout: TIMEOUT });

      // back in the DMs; carol writes again, so bob has something unread for the list screenshot
      await bob.open('Alice');
      await alice.open('Bob');
      await carol.sendAll(groupId, ['The forecast says sunny ☀️']);
      await expect.poll(() => bob.unreadCount('Weekend trip'), poll).toBe(1);
      // the unread total is in the tab title
      expect(await bobPage.title()).toBe('(1) Chat');
    } finally {
      carol.close();
    }
  });

  it('renders Markdown and code, and looks right in light and dark (screenshots, axe)', async () => {
    await alice.send(
      [
        'Here is the plan:',
        '',
        '1. Meet at the **station** at 6:30',
        '2. Walk over together',
        '- [x] table booked',
        '- [ ] bring the ~~umbrella~~ good mood',
        '',
        'Menu: https://example.com/menu',
        '',
        '| Day | Place | Guests | Booking | Status |',
        '|---|---|---|---|---|',
        '| Wednesday | Riverside | everybody | reservation | confirmed |',
      ].join('\n'),
    );
    await bob.message('Here is the plan').waitFor({ timeout: TIMEOUT });
    await bob.send(
      [
        'Perfect. By the way, the fix for the bug you found:',
        '',
        '```ts',
        'export function total(items: number[]): number {',
        '  return items.reduce((sum, n) => sum + n, 0);',
        '}',
        '```',
      ].join('\n'),
    );
    await alice.message('the fix for the bug').waitFor({ timeout: TIMEOUT });
    await expect.poll(() => alice.delivery('Here is the plan'), poll).toBe('read');

    // highlighted code (the highlighter is a chunk loaded with the first code block), safe links
    const code = alice.message('the fix for the bug').locator('code.hljs');
    await expect.poll(() => code.count(), poll).toBe(1);
    await expect.poll(() => code.locator('.hljs-keyword').count(), poll).toBeGreaterThan(0);
    const link = alice.message('Here is the plan').getByRole('link', { name: 'https://example.com/menu' });
    await link.waitFor({ timeout: TIMEOUT });
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow');

    expect(await axeViolations(alicePage)).toEqual([]);
    await screenshot(alicePage, 'chat-light');
    await alicePage.emulateMedia({ colorScheme: 'dark' });
    await alicePage.waitForFunction(() => document.documentElement.classList.contains('dark'));
    expect(await axeViolations(alicePage)).toEqual([]);
    await screenshot(alicePage, 'chat-dark');
    await alicePage.emulateMedia({ colorScheme: 'light' });

    // the list alone (bob's side, nothing open), and the phone layout
    await bobPage.goto('/chat');
    await bob.waitReady();
    expect(await axeViolations(bobPage)).toEqual([]);
    await screenshot(bobPage, 'conversations');
    await bobPage.setViewportSize({ width: 390, height: 844 });
    // the on-screen keyboard resizes the page (the timeline then stays at the bottom, as for a growing draft)
    expect(await bobPage.locator('meta[name="viewport"]').getAttribute('content')).toContain(
      'interactive-widget=resizes-content',
    );
    await bob.open('Alice');
    // legible on a phone: no text under 12 px (the bubbles' time and receipts were 11.2 px)
    await bob.message('the fix for the bug').locator('code.hljs').waitFor({ timeout: TIMEOUT });
    expect(await smallText(bobPage)).toEqual([]);
    // a table wider than the bubble scrolls sideways; its cells never break a word (they squeezed to a few
    // letters a line, the bubble's `overflow-wrap: anywhere` applying inside them)
    const cells = bob.message('Here is the plan').locator('td, th');
    expect(await cells.count()).toBe(10);
    const lines = await cells.evaluateAll((els) =>
      els.map((el) => {
        const range = document.createRange();
        range.selectNodeContents(el);
        return `${el.textContent}:${range.getClientRects().length}`;
      }),
    );
    expect(lines.filter((l) => !l.endsWith(':1'))).toEqual([]);
    await screenshot(bobPage, 'chat-phone');
    await bobPage.setViewportSize({ width: 1280, height: 800 });
  });

  it('keeps history across a reload and loads older pages as you scroll up', async () => {
    const conversationId = await alice.row('Bob').getAttribute('data-conversation-id');
    expect(conversationId).toBeTruthy();
    const bodies = Array.from({ length: 70 }, (_, i) => `history line ${String(i + 1).padStart(3, '0')}`);
    const bulk = await protocolClient(stack.runtime, bobName, PASSWORD);
    let serverOrder: string[];
    try {
      await bulk.sendAll(conversationId as string, bodies);
      // the server's order (by id): a message resent after a rate limit may sit later than its neighbours
      const res = await fetch(`${stack.runtime.httpUrl}/conversations/${conversationId}/messages?limit=100`, {
        headers: { authorization: `Bearer ${bulk.token}` },
      });
      const page = (await res.json()) as { messages: Array<{ body: string }> };
      serverOrder = page.messages
        .map((m) => /history line (\d{3})/.exec(m.body)?.[1])
        .filter((x): x is string => Boolean(x))
        .reverse();
    } finally {
      bulk.close();
    }
    expect([...serverOrder].sort()).toEqual(bodies.map((b) => b.slice(-3)));

    await alicePage.reload();
    await alice.waitReady();
    await alice.open('Bob');
    await alice.message('history line 070').waitFor({ timeout: TIMEOUT });
    // the first page holds the newest 50; the oldest arrive when scrolling up
    expect(await alice.message('history line 001').count()).toBe(0);
    for (let i = 0; i < 5 && (await alice.historyStart().count()) === 0; i++) {
      await alice.scrollToTop();
      await alicePage.waitForTimeout(400);
    }
    await alice.historyStart().waitFor({ timeout: TIMEOUT });
    await alice.message('history line 001').waitFor({ timeout: TIMEOUT });
    await alice.message('Are we still on').waitFor({ timeout: TIMEOUT });
    // every message exactly once, in order
    const texts = await alice.messages().allTextContents();
    const lines = texts.map((t) => /history line (\d{3})/.exec(t)?.[1]).filter(Boolean);
    expect(lines).toEqual(serverOrder);
    expect(await alicePage.getByTestId('day-separator').count()).toBe(1);
    // far from the newest message: a button takes you back
    await alicePage.getByTestId('jump-to-newest').click();
    await alicePage.getByTestId('jump-to-newest').waitFor({ state: 'detached', timeout: TIMEOUT });
    expect(await alice.message('history line 070').isVisible()).toBe(true);
    // at the bottom, the timeline gets shorter as a draft grows the composer: it stays at the bottom (it kept
    // its scroll position, and the newest message's last lines and ✓ went under the composer)
    const scroller = alicePage.getByTestId('message-scroller');
    const gap = () => scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    await expect.poll(gap, { timeout: TIMEOUT }).toBeLessThan(2);
    const before = await scroller.evaluate((el) => el.clientHeight);
    const composer = alicePage.locator('textarea[data-composer]');
    await composer.fill('a draft\nof\nsix\nlines\nthat grows\nthe composer');
    await expect.poll(() => scroller.evaluate((el) => el.clientHeight)).toBeLessThan(before - 60);
    await expect.poll(gap, { timeout: TIMEOUT }).toBeLessThan(2);
    await composer.fill('');
  }, 180_000);

  it('offline: messages wait, then arrive exactly once, in order; what was missed is filled in', async () => {
    await alice.open('Bob');
    await bob.open('Alice');
    const offline = ['offline one', 'offline two', 'offline three'];
    await aliceCtx.setOffline(true);
    try {
      await expect.poll(() => alice.connectionState(), poll).toBe('offline');
      for (const text of offline) await alice.send(text);
      for (const text of offline) expect(await alice.delivery(text)).toBe('sending');
      await alicePage.waitForTimeout(1_000);
      for (const text of offline) expect(await bob.message(text).count()).toBe(0);
      // meanwhile bob writes: alice's socket is gone, so only the gap fill (after=) can bring it
      await bob.send('while you were away');
      await expect.poll(() => bob.delivery('while you were away'), poll).toBe('sent');
    } finally {
      await aliceCtx.setOffline(false);
    }
    for (const text of offline) await bob.message(text).waitFor({ timeout: TIMEOUT });
    await alice.message('while you were away').waitFor({ timeout: TIMEOUT });
    expect(await alice.message('while you were away').count()).toBe(1);
    await expect.poll(() => alice.delivery('offline three'), poll).not.toBe('sending');
    await bobPage.waitForTimeout(1_500); // room for a duplicate to show up, if there were one
    for (const text of offline) {
      expect(await bob.message(text).count()).toBe(1);
      expect(await alice.message(text).count()).toBe(1);
    }
    const order = (await bob.messages().allTextContents())
      .map((t) => /offline (one|two|three)/.exec(t)?.[1])
      .filter(Boolean);
    expect(order).toEqual(['one', 'two', 'three']);
  });

  it('never executes markup from messages (XSS vectors)', async () => {
    const vectors = [
      '<script>window.__pwned=1;alert("script")</script>',
      '<img src=x onerror="window.__pwned=1;alert(\'img\')">',
      '[click me](javascript:window.__pwned=1;alert("js-link"))',
      '[mixed case](JaVaScRiPt:alert("case"))',
      '[entity](&#106;avascript:alert("entity"))',
      '<a href="javascript:alert(\'html-link\')">html link</a>',
      '<svg onload="window.__pwned=1;alert(\'svg\')"><circle r="5"/></svg>',
      '![svg](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9ImFsZXJ0KDEpIi8+)',
      '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
      '<iframe src="javascript:alert(\'iframe\')"></iframe>',
      '<details open ontoggle="alert(\'details\')">x</details>',
      '<math><mtext><table><mglyph><style><img src=x onerror=alert("mxss")>',
    ];
    for (const v of vectors) await alice.send(v);
    await bob.message('mxss').waitFor({ timeout: TIMEOUT });
    await alicePage.waitForTimeout(500);

    for (const page of [alicePage, bobPage]) {
      const report = await page.evaluate(() => {
        const bodies = [...document.querySelectorAll('[data-testid="message"] .md')];
        const all = bodies.flatMap((b) => [...b.querySelectorAll('*')]);
        return {
          pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
          // (the app's own icons live in its buttons, e.g. a code block's copy button)
          dangerous: all.filter(
            (el) =>
              ['SCRIPT', 'IFRAME', 'SVG', 'OBJECT', 'EMBED', 'STYLE', 'MATH'].includes(
                el.tagName.toUpperCase(),
              ) && !el.closest('button'),
          ).length,
          handlers: all.filter((el) => [...el.attributes].some((a) => a.name.toLowerCase().startsWith('on')))
            .length,
          badLinks: all
            .filter((el) => el.tagName === 'A' || el.tagName === 'IMG')
            .map((el) => el.getAttribute('href') ?? el.getAttribute('src') ?? '')
            .filter((u) => !/^(https?:|mailto:)/i.test(u)),
          shownAsText: bodies.some((b) => b.textContent?.includes('<script>window.__pwned=1;')),
        };
      });
      expect(report).toEqual({ pwned: null, dangerous: 0, handlers: 0, badLinks: [], shownAsText: true });
    }
    // the neutralized links are plain text; clicking them goes nowhere
    await bob.message('click me').getByText('click me').click();
    await bobPage.waitForTimeout(300);
    expect(dialogs).toEqual([]);
    expect(bobCtx.pages()).toHaveLength(1);
  });

  it('seeds demo accounts through the public API, idempotently; a newcomer signs in to a welcome chat', async () => {
    const accounts = [
      { username: uniqueName('demo_a'), password: PASSWORD, displayName: 'Alice Martin' },
      { username: uniqueName('demo_b'), password: PASSWORD, displayName: 'Bob Chen' },
    ] as const;
    const options = { httpApi: stack.runtime.httpUrl, wsApi: stack.runtime.wsUrl, accounts };
    const first = await seedDemo(options);
    const again = await seedDemo(options);
    expect(first.messagesSent).toBe(3);
    expect(again).toEqual({ ...first, messagesSent: 0 });

    const ctx = await stack.newContext({ phone: true });
    try {
      const chat = await new AuthPage(await ctx.newPage()).signIn(accounts[0].username, PASSWORD);
      await chat.open('Bob Chen');
      await chat.message('Open a second window').waitFor({ timeout: TIMEOUT });
      expect(await chat.messages().count()).toBe(3);

      // sign out: back to sign-in, and the chat is closed to this browser
      await chat.signOut();
      await chat.page.goto('/chat');
      await chat.page.waitForURL(/\/signin/, { timeout: TIMEOUT });
    } finally {
      await ctx.close();
    }
  });

  it('paints the last conversation from this browser’s cache on a reload, then the server’s; sign-out clears it', async () => {
    const accounts = [
      { username: uniqueName('cache_a'), password: PASSWORD, displayName: 'Cara Lopez' },
      { username: uniqueName('cache_b'), password: PASSWORD, displayName: 'Dan Weber' },
    ] as const;
    await seedDemo({ httpApi: stack.runtime.httpUrl, wsApi: stack.runtime.wsUrl, accounts });
    const ctx = await stack.newContext({ phone: true });
    try {
      const chat = await new AuthPage(await ctx.newPage()).signIn(accounts[0].username, PASSWORD);
      const { page } = chat;
      await chat.open('Dan Weber');
      await chat.message('Open a second window').waitFor({ timeout: TIMEOUT });
      const cacheKeys = () =>
        page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('chat.cache.v1.')));
      const cached = () =>
        page.evaluate(() => {
          const k = Object.keys(localStorage).find((key) => key.startsWith('chat.cache.v1.'));
          return k ? (localStorage.getItem(k) ?? '') : '';
        });
      // written a moment after the timeline showed
      await expect.poll(cached, poll).toContain('Open a second window');
      expect(await cacheKeys()).toHaveLength(1);
      // the cache now says something the server does not: whatever shows it came from the cache
      await page.evaluate(() => {
        const k = Object.keys(localStorage).find((key) => key.startsWith('chat.cache.v1.')) as string;
        const text = (localStorage.getItem(k) ?? '').replace(
          /Open a second window[^"]*/g,
          'Shown from the cache',
        );
        localStorage.setItem(k, text);
      });

      // the history page is held back until the cached timeline has been seen
      let release = () => {};
      const held = new Promise<void>((r) => {
        release = r;
      });
      await page.route(/\/messages\?/, async (route) => {
        await held;
        await route.continue();
      });
      await page.reload();
      await chat.message('Shown from the cache').waitFor({ timeout: TIMEOUT });
      expect(await chat.message('Open a second window').count()).toBe(0);
      expect(await chat.messages().count()).toBe(3);
      release();
      // the server's page replaces it: its text, every message once
      await chat.message('Open a second window').waitFor({ timeout: TIMEOUT });
      expect(await chat.message('Shown from the cache').count()).toBe(0);
      expect(await chat.messages().count()).toBe(3);
      await page.unroute(/\/messages\?/);
      await expect.poll(cached, poll).toContain('Open a second window');

      // sign out: no cache is left in this browser
      await chat.signOut();
      expect(await cacheKeys()).toEqual([]);
    } finally {
      await ctx.close();
    }
  });

  it('refreshes a rejected access token once, retries, and keeps the rotated refresh token', async () => {
    const KEY = 'chat.session.v1';
    const before = await alicePage.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? '{}'), KEY);
    // the access token is now garbage (as if expired or its signing key rotated): every call gets 401
    await alicePage.evaluate((k) => {
      const s = JSON.parse(localStorage.getItem(k) ?? '{}');
      localStorage.setItem(k, JSON.stringify({ ...s, accessToken: 'not-a-token' }));
    }, KEY);
    await alicePage.reload();
    await alice.waitReady();
    await alice.open('Bob');
    await alice.message('while you were away').waitFor({ timeout: TIMEOUT });
    const after = await alicePage.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? '{}'), KEY);
    expect(after.accessToken).not.toBe('not-a-token');
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.user.id).toBe(before.user.id);
  });

  it('shows bob offline when his browser closes', async () => {
    await expect.poll(() => alice.presenceDot('Bob').getAttribute('data-online'), poll).toBe('true');
    await bobCtx.close();
    await expect.poll(() => alice.presenceDot('Bob').getAttribute('data-online'), poll).toBe('false');
    await expect
      .poll(() => alicePage.getByTestId('chat-subtitle').textContent(), poll)
      .toMatch(/last seen|offline/);
  });

  // every page preloads /config.json (app/layout.tsx) and its first fetch uses it; a client-side navigation
  // (sign-in → /chat) must not add a second preload that nothing uses (Chromium warns a few seconds after load)
  it('preloads the endpoints once per page load and never on a client-side navigation; every preload used', () => {
    for (const count of [loads.alice, loads.bob]) {
      expect(count.documents).toBeGreaterThan(1);
      expect(count.preloads).toBe(count.documents);
    }
    expect(unusedPreloads).toEqual([]);
  });
});
