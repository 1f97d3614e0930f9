// axe-core checks of the main states, in both themes on desktop and mobile (contrast included).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DESKTOP,
  MOBILE,
  applySettings,
  axeViolations as violations,
  byTestId,
  finishedAnswer,
  needsUrl,
  openBrowser,
  openChat,
  send,
} from './browser.mjs';

const options = { ...needsUrl('CHAT_URL', 'the chat page with a loaded model'), timeout: 300_000 };

for (const colorScheme of ['light', 'dark']) {
  for (const [layout, viewport] of [
    ['desktop', DESKTOP],
    ['mobile', MOBILE],
  ]) {
    test(`no accessibility violations in the ${colorScheme} theme on ${layout}`, options, async (t) => {
      const { page, close } = await openBrowser({ viewport });
      t.after(close);
      await page.emulateMedia({ colorScheme });
      await openChat(page, process.env.CHAT_URL);
      assert.deepEqual(await violations(page), [], 'empty chat');

      await applySettings(page, { maxTokens: 8 });
      await send(page, 'Hello!');
      await finishedAnswer(page, 0);
      await byTestId(page, 'regenerate').click();
      await byTestId(page, 'version-count').waitFor();
      await finishedAnswer(page, 0);
      assert.deepEqual(await violations(page), [], 'with two versions of an answer');

      await byTestId(page, 'edit-message').click();
      assert.deepEqual(await violations(page), [], 'editing a message');
      await byTestId(page, 'edit-cancel').click();

      await byTestId(page, 'prompt-input').fill('word '.repeat(4000));
      await byTestId(page, 'prompt-input').press('Enter');
      await byTestId(page, 'composer-error').waitFor();
      assert.deepEqual(await violations(page), [], 'an over-long prompt refused');

      if (layout === 'mobile') await byTestId(page, 'menu-toggle').click();
      await byTestId(page, 'open-settings').click();
      assert.deepEqual(await violations(page), [], 'settings dialog');
    });
  }
}
