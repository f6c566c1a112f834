/** Page objects: the tests speak in user terms; selectors live here only. */
import type { Locator, Page } from 'playwright-core';

export const TIMEOUT = 20_000;

export class AuthPage {
  constructor(readonly page: Page) {}

  async gotoSignIn(): Promise<void> {
    await this.page.goto('/signin');
    await this.page.getByRole('heading', { name: 'Welcome back' }).waitFor({ timeout: TIMEOUT });
  }

  async signUp(username: string, password: string, displayName?: string): Promise<ChatPage> {
    await this.page.goto('/signup');
    await this.page.getByLabel('Username').fill(username);
    if (displayName) await this.page.getByLabel(/Display name/).fill(displayName);
    await this.page.getByLabel('Password', { exact: true }).fill(password);
    await this.page.getByRole('button', { name: 'Create account' }).click();
    const chat = new ChatPage(this.page);
    await chat.waitReady();
    return chat;
  }

  async signIn(username: string, password: string): Promise<ChatPage> {
    await this.gotoSignIn();
    await this.page.getByLabel('Username').fill(username);
    await this.page.getByLabel('Password', { exact: true }).fill(password);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
    const chat = new ChatPage(this.page);
    await chat.waitReady();
    return chat;
  }
}

export class ChatPage {
  constructor(readonly page: Page) {}

  async waitReady(): Promise<void> {
    await this.page.waitForURL(/\/chat/, { timeout: TIMEOUT });
    await this.page.getByRole('heading', { name: 'Chats' }).waitFor({ timeout: TIMEOUT });
    await this.waitConnected();
  }

  async waitConnected(): Promise<void> {
    await this.page.locator('[data-testid="connection-status"][data-state="open"]').waitFor({
      state: 'attached',
      timeout: TIMEOUT,
    });
  }

  connectionState(): Promise<string | null> {
    return this.page.getByTestId('connection-status').getAttribute('data-state');
  }

  // ── the list ──────────────────────────────────────────────────────────────────────────────────────────

  row(title: string): Locator {
    return this.page.getByTestId('conversation-row').filter({
      has: this.page.getByTestId('conversation-title').getByText(title, { exact: true }),
    });
  }

  unreadBadge(title: string): Locator {
    return this.row(title).getByTestId('unread-badge');
  }

  async unreadCount(title: string): Promise<number> {
    const badge = this.unreadBadge(title);
    if ((await badge.count()) === 0) return 0;
    return Number(await badge.getAttribute('data-count'));
  }

  presenceDot(title: string): Locator {
    return this.row(title).getByTestId('presence-dot');
  }

  preview(title: string): Locator {
    return this.row(title).getByTestId('conversation-preview');
  }

  async open(title: string): Promise<void> {
    await this.row(title).click();
    await this.page.getByTestId('chat-title').filter({ hasText: title }).waitFor({ timeout: TIMEOUT });
  }

  async startDm(username: string, expectTitle: string): Promise<void> {
    await this.page.getByRole('button', { name: 'New conversation' }).first().click();
    const dialog = this.page.getByRole('dialog', { name: 'New conversation' });
    await dialog.getByLabel('Find people').fill(username);
    await dialog.getByRole('button', { name: new RegExp(`@${username}`) }).click();
    await this.page.getByTestId('chat-title').filter({ hasText: expectTitle }).waitFor({ timeout: TIMEOUT });
  }

  async signOut(): Promise<void> {
    const menu = this.page.getByRole('button', { name: 'Account and settings' });
    // on a phone the menu lives in the list, not beside an open conversation
    if (!(await menu.isVisible()))
      await this.page.getByRole('link', { name: 'Back to conversations' }).click();
    await menu.click();
    await this.page.getByRole('button', { name: 'Sign out' }).click();
    await this.page.waitForURL(/\/signin/, { timeout: TIMEOUT });
  }

  async createGroup(title: string, usernames: string[]): Promise<void> {
    await this.page.getByRole('button', { name: 'New conversation' }).first().click();
    const dialog = this.page.getByRole('dialog', { name: 'New conversation' });
    await dialog.getByRole('tab', { name: 'Group' }).click();
    await dialog.getByLabel('Title').fill(title);
    for (const username of usernames) {
      await dialog.getByLabel('Add members').fill(username);
      await dialog.getByRole('checkbox', { name: new RegExp(`@${username}`) }).check();
    }
    await dialog.getByRole('button', { name: /^Create group/ }).click();
    await this.page.getByTestId('chat-title').filter({ hasText: title }).waitFor({ timeout: TIMEOUT });
  }

  // ── the open conversation ─────────────────────────────────────────────────────────────────────────────

  composer(): Locator {
    return this.page.getByRole('textbox', { name: 'Message' });
  }

  async send(text: string): Promise<void> {
    await this.composer().fill(text);
    await this.composer().press('Enter');
  }

  messages(): Locator {
    return this.page.getByTestId('message');
  }

  message(text: string): Locator {
    return this.messages().filter({ hasText: text });
  }

  /** sending | failed | sent | partial | read (my messages only). */
  delivery(text: string): Promise<string | null> {
    return this.message(text).last().getAttribute('data-delivery');
  }

  typingIndicator(): Locator {
    return this.page.getByTestId('typing-indicator');
  }

  scroller(): Locator {
    return this.page.getByTestId('message-scroller');
  }

  async scrollToTop(): Promise<void> {
    await this.scroller().evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
    });
  }

  historyStart(): Locator {
    return this.page.getByTestId('history-start');
  }
}
