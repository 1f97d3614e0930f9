// Screenshots of the desktop and mobile layouts, saved to e2e/screenshots/ (git-ignored).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DESKTOP,
  MOBILE,
  screenshot,
  byTestId,
  finishedAnswer,
  needsUrl,
  openBrowser,
  openChat,
  send,
  applySettings,
} from './browser.mjs';

const CHAT_URL = process.env.CHAT_URL;
const options = { ...needsUrl('CHAT_URL', 'the chat page with a loaded model'), timeout: 300_000 };

test('desktop layout: sidebar beside the chat, light and dark', options, async (t) => {
  const { page, close } = await openBrowser({ viewport: DESKTOP });
  t.after(close);
  await openChat(page, CHAT_URL);
  await screenshot(page, 'desktop-empty');
  await applySettings(page, { maxTokens: 24 });
  await send(page, 'Write a haiku about the ocean.');
  await finishedAnswer(page, 0);

  assert.equal(await byTestId(page, 'sidebar').isVisible(), true);
  assert.equal(await byTestId(page, 'menu-toggle').isVisible(), false);
  await screenshot(page, 'desktop');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, 'desktop-dark');
  await byTestId(page, 'model-pill').click();
  await byTestId(page, 'status-parameters').waitFor();
  await screenshot(page, 'desktop-status');
});

test('mobile layout: the sidebar collapses behind a menu button', options, async (t) => {
  const { page, close } = await openBrowser({ viewport: MOBILE });
  t.after(close);
  await openChat(page, CHAT_URL);
  await applySettings(page, { maxTokens: 24 });
  await send(page, 'Give me three tips for learning a new language.');
  await finishedAnswer(page, 0);

  const sidebarBox = await byTestId(page, 'sidebar').boundingBox();
  assert.ok(!sidebarBox || sidebarBox.x + sidebarBox.width <= 0, 'sidebar is off-screen');
  await screenshot(page, 'mobile');

  await byTestId(page, 'menu-toggle').click();
  assert.equal(await byTestId(page, 'menu-toggle').getAttribute('aria-expanded'), 'true');
  await page.waitForTimeout(300); // slide-in transition
  assert.equal((await byTestId(page, 'sidebar').boundingBox()).x, 0);
  await screenshot(page, 'mobile-sidebar');
  await byTestId(page, 'scrim').click({ position: { x: 370, y: 400 } });
  assert.equal(await byTestId(page, 'menu-toggle').getAttribute('aria-expanded'), 'false');
});
