// axe-core checks of the main states, in both themes (contrast included).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { applySettings, byTestId, finishedAnswer, needsUrl, openBrowser, openChat, send } from './browser.mjs';

const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const options = { ...needsUrl('CHAT_URL', 'the chat page with a loaded model'), timeout: 300_000 };

/** Violations as "impact rule: selector" lines, so a failure says what to fix. */
async function violations(page) {
  // evaluate() runs outside the page's CSP, which forbids injected scripts.
  await page.evaluate(axeSource);
  const { violations } = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
  return violations.flatMap((v) => v.nodes.map((node) => `${v.impact} ${v.id}: ${node.target.join(' ')}`));
}

for (const colorScheme of ['light', 'dark']) {
  test(`no accessibility violations in the ${colorScheme} theme`, options, async (t) => {
    const { page, close } = await openBrowser();
    t.after(close);
    await page.emulateMedia({ colorScheme });
    await openChat(page, process.env.CHAT_URL);
    assert.deepEqual(await violations(page), [], 'empty chat');

    await applySettings(page, { maxTokens: 8 });
    await send(page, 'Hello!');
    await finishedAnswer(page, 0);
    assert.deepEqual(await violations(page), [], 'with an answer');

    await byTestId(page, 'open-settings').click();
    assert.deepEqual(await violations(page), [], 'settings dialog');
  });
}
