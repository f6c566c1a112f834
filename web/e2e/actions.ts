/** Page objects of the message actions (issue 14): the menu, the editor, reactions, replies, attachments. */
import { deflateSync } from 'node:zlib';
import type { Locator, Page } from 'playwright-core';
import { type ChatPage, TIMEOUT } from './pages.ts';

export class Actions {
  constructor(
    readonly chat: ChatPage,
    readonly page: Page = chat.page,
  ) {}

  message(text: string): Locator {
    return this.chat.message(text).last();
  }

  menu(): Locator {
    return this.page.getByRole('menu', { name: 'Message actions' });
  }

  /** Opens a message's menu the mouse way: hover shows the actions button, a click opens the menu. */
  async openMenu(text: string): Promise<Locator> {
    const m = this.message(text);
    await m.getByTestId('bubble').hover();
    await m.getByRole('button', { name: 'Message actions' }).click();
    await this.menu().waitFor({ timeout: TIMEOUT });
    return this.menu();
  }

  async choose(text: string, item: string | RegExp): Promise<void> {
    const menu = await this.openMenu(text);
    await menu.getByRole('menuitem', { name: item }).click();
  }

  /** The name of the focused element (what a screen reader announces first). */
  focusedName(): Promise<string | null> {
    return this.page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el?.getAttribute('aria-label') ?? el?.textContent?.trim() ?? null;
    });
  }

  chip(text: string, emoji: string): Locator {
    return this.message(text).locator(`[data-testid="reaction-chip"][data-emoji="${emoji}"]`);
  }

  /** `count` of a reaction chip and whether it is mine (aria-pressed), or null when there is none. */
  async chipState(text: string, emoji: string): Promise<string | null> {
    const chip = this.chip(text, emoji);
    if ((await chip.count()) === 0) return null;
    return `${await chip.getAttribute('data-count')}:${await chip.getAttribute('aria-pressed')}`;
  }

  editor(): Locator {
    return this.page.getByRole('textbox', { name: 'Edit message' });
  }

  byId(id: string): Locator {
    return this.page.locator(`[data-testid="message"][data-message-id="${id}"]`);
  }

  /** Whether a message's (by id) top and bottom are inside the timeline's visible area. */
  inView(id: string): Promise<boolean> {
    return this.byId(id).evaluate((el) => {
      const r = el.getBoundingClientRect();
      const s = (el.closest('[data-testid="message-scroller"]') as HTMLElement).getBoundingClientRect();
      return r.top >= s.top - 1 && r.bottom <= s.bottom + 1;
    });
  }

  uploads(): Locator {
    return this.page.getByTestId('upload');
  }

  /** Drops files on the composer as a drag from the desktop would. */
  async dropFiles(files: Array<{ name: string; type: string; text: string }>): Promise<void> {
    const dataTransfer = await this.page.evaluateHandle((list) => {
      const dt = new DataTransfer();
      for (const f of list) dt.items.add(new File([f.text], f.name, { type: f.type }));
      return dt;
    }, files);
    await this.chat.composer().dispatchEvent('dragover', { dataTransfer });
    await this.chat.composer().dispatchEvent('drop', { dataTransfer });
  }

  /** Pastes files into the composer as a clipboard with files would. */
  async pasteFiles(files: Array<{ name: string; type: string; text: string }>): Promise<void> {
    await this.chat.composer().evaluate((el, list) => {
      const dt = new DataTransfer();
      for (const f of list) dt.items.add(new File([f.text], f.name, { type: f.type }));
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, files);
  }
}

// ── a real PNG, made here (no binary fixture in the repo) ───────────────────────────────────────────────────

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A `width`×`height` RGB PNG: a diagonal gradient from `from` to `to` (so a thumbnail is recognisable). */
export function gradientPng(
  width: number,
  height: number,
  from: [number, number, number],
  to: [number, number, number],
): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      const t = (x / width + y / height) / 2;
      for (let c = 0; c < 3; c++)
        row[1 + x * 3 + c] = Math.round((from[c] as number) + ((to[c] as number) - (from[c] as number)) * t);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
