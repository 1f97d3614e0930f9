// Issue 13's defects, each as a browser scenario: storage across tabs and reloads, one generation per conversation,
// settings saved with Enter, over-long prompts refused before any call, a status that recovers by itself, answer
// versions and edits, raw HTML shown as text. CHAT_URL: the chat page with a loaded model.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MOBILE,
  answers,
  applySettings,
  axeViolations,
  byTestId,
  countUpdateCalls,
  cspViolations,
  finishedAnswer,
  needsUrl,
  openBrowser,
  openChat,
  parseStats,
  putConversation,
  screenshot,
  send,
  storedConversations,
  tokensShown,
} from './browser.mjs';

const CHAT_URL = process.env.CHAT_URL;
const CALL_BUDGET = process.env.E2E_CALL_BUDGET ?? '1';
const needsChat = { ...needsUrl('CHAT_URL', 'the chat page with a loaded model'), timeout: 600_000 };

test('two tabs sending at once keep both conversations after a reload', needsChat, async (t) => {
  const { page: first, context, close } = await openBrowser();
  t.after(close);
  await openChat(first, CHAT_URL);
  await applySettings(first, { maxTokens: 3 });
  const second = await context.newPage();
  await openChat(second, CHAT_URL);

  await Promise.all([send(first, 'Question from tab A'), send(second, 'Question from tab B')]);
  await Promise.all([finishedAnswer(first, 0), finishedAnswer(second, 0)]);
  // Each tab hears the other's conversation without a reload.
  await first.locator('[data-testid="conversation-item"]', { hasText: 'Question from tab B' }).waitFor();
  await second.locator('[data-testid="conversation-item"]', { hasText: 'Question from tab A' }).waitFor();
  await send(first, 'Follow-up in tab A');
  await finishedAnswer(first, 1);

  await second.reload();
  await openChat(second, CHAT_URL);
  const titles = (await byTestId(second, 'conversation-item').allInnerTexts()).map((text) => text.split('\n')[0]);
  assert.deepEqual(titles.sort(), ['Question from tab A', 'Question from tab B']);
  const stored = await storedConversations(second);
  assert.equal(stored.find((c) => c.title === 'Question from tab A').messages.length, 4);
});

test(
  'a reload during an answer keeps its text; Continue finishes it in the same canister session',
  needsChat,
  async (t) => {
    const { page, close } = await openBrowser();
    t.after(close);
    await openChat(page, CHAT_URL);
    await applySettings(page, { maxTokens: 40, callBudget: CALL_BUDGET });
    await send(page, 'Tell me a long story about a lighthouse.');
    await tokensShown(page, 4);

    await page.reload();
    await openChat(page, CHAT_URL);
    const answer = answers(page).first();
    assert.equal(await answer.getAttribute('data-state'), 'interrupted');
    const partial = (await answer.locator('[data-testid="message-content"]').innerText()).trim();
    assert.ok(partial.length > 0, 'the partial answer is shown');
    const [before] = await storedConversations(page);
    const sessionBefore = before.messages.find((m) => m.role === 'assistant').sessionId;
    assert.ok(sessionBefore, 'the session id was saved with the partial answer');
    await byTestId(page, 'interrupted-note').waitFor();
    assert.equal(await byTestId(page, 'regenerate').innerText(), 'Retry');
    await screenshot(page, 'interrupted-answer');

    await byTestId(page, 'continue').click();
    const finished = await finishedAnswer(page, 0);
    assert.equal(finished.outcome, 'done', finished.error);
    assert.ok(finished.text.startsWith(partial), `${JSON.stringify(partial)} → ${JSON.stringify(finished.text)}`);
    const [after] = await storedConversations(page);
    const answerAfter = after.messages.find((m) => m.role === 'assistant');
    assert.equal(answerAfter.sessionId, sessionBefore, 'same canister session');
    assert.equal(answerAfter.replayed, undefined, 'not replayed');
    assert.equal(finished.stats.tokens, 40);
  },
);

test('switching conversation during an answer leaves Stop in the busy one only', needsChat, async (t) => {
  const { page, close } = await openBrowser();
  t.after(close);
  await openChat(page, CHAT_URL);
  await applySettings(page, { maxTokens: 60, callBudget: CALL_BUDGET });
  await send(page, 'A long answer, please.');
  await tokensShown(page, 1);

  await byTestId(page, 'new-chat').click();
  assert.equal(await byTestId(page, 'stop').isVisible(), false);
  assert.equal(await byTestId(page, 'send').isVisible(), true);
  assert.equal(await byTestId(page, 'conversation-busy').count(), 1);
  await screenshot(page, 'busy-conversation-in-sidebar');

  // This conversation's composer works while the other one generates.
  await applySettings(page, { maxTokens: 3 });
  await send(page, 'A short one meanwhile.');
  const short = await finishedAnswer(page, 0);
  assert.equal(short.outcome, 'done', short.error);

  await page.locator('[data-testid="conversation-item"]', { hasText: 'A long answer, please.' }).click();
  await byTestId(page, 'stop').click();
  const long = await finishedAnswer(page, 0);
  assert.equal(long.outcome, 'stopped');
  assert.equal(await byTestId(page, 'conversation-busy').count(), 0);
});

test('Enter in a settings field saves the settings', needsChat, async (t) => {
  const { page, close } = await openBrowser();
  t.after(close);
  await openChat(page, CHAT_URL);
  await byTestId(page, 'open-settings').click();
  await byTestId(page, 'setting-max-tokens').fill('17');
  await byTestId(page, 'setting-max-tokens').press('Enter');
  await byTestId(page, 'settings-dialog').waitFor({ state: 'hidden' });
  await byTestId(page, 'open-settings').click();
  assert.equal(await byTestId(page, 'setting-max-tokens').inputValue(), '17');
  // The ✕ closes without saving.
  await byTestId(page, 'setting-max-tokens').fill('5');
  await byTestId(page, 'settings-close').click();
  await byTestId(page, 'open-settings').click();
  assert.equal(await byTestId(page, 'setting-max-tokens').inputValue(), '17');
});

test('a 20,000-character prompt is refused before any call', needsChat, async (t) => {
  const { page, close } = await openBrowser();
  t.after(close);
  await openChat(page, CHAT_URL);
  const updateCalls = countUpdateCalls(page);
  const prompt = 'The quick brown fox jumps over the lazy dog. '.repeat(445).slice(0, 20_000);
  await byTestId(page, 'prompt-input').fill(prompt);
  await byTestId(page, 'prompt-input').press('Enter');

  await byTestId(page, 'composer-error').waitFor();
  // The context length is the served model's (1,024 for GPT-2; the small test models have less).
  assert.match(
    await byTestId(page, 'composer-error').innerText(),
    /^This message is too long for the model: (more than )?[\d,]+ tokens; the model's context holds [\d,]+\. Shorten it\.$/,
  );
  assert.match(await byTestId(page, 'token-count').innerText(), /^([\d,]+ \/ [\d,]+|over [\d,]+) tokens$/);
  assert.equal(updateCalls(), 0);
  assert.equal(await byTestId(page, 'message').count(), 0);
  assert.equal(await byTestId(page, 'conversation-item').count(), 0);
  assert.equal(await byTestId(page, 'prompt-input').inputValue(), prompt);
  await screenshot(page, 'prompt-refused');
});

test('the status banner clears by itself when the replica is back', needsChat, async (t) => {
  const { page, context, close } = await openBrowser();
  t.after(close);
  await openChat(page, CHAT_URL);
  assert.match(await byTestId(page, 'model-pill').innerText(), /model · [\d.]+ [KMB] · (f32|int8)$/);

  // The replica goes away: a send fails, and the pill and banner say so.
  const down = (route) => route.abort('connectionrefused');
  await context.route('**/api/**', down);
  await send(page, 'Hello?');
  await finishedAnswer(page, 0);
  await page.waitForSelector('[data-testid="model-pill"][data-state="unreachable"]', { timeout: 30_000 });
  assert.equal(await byTestId(page, 'banner').isVisible(), true);
  await screenshot(page, 'replica-down');

  // It is back: no click, no reload.
  await context.unroute('**/api/**', down);
  await page.waitForSelector('[data-testid="model-pill"][data-state="ready"]', { timeout: 30_000 });
  assert.equal(await byTestId(page, 'banner').isHidden(), true);
});

test('editing a message forks the conversation; both versions stay', needsChat, async (t) => {
  const { page, close } = await openBrowser();
  t.after(close);
  await openChat(page, CHAT_URL);
  await applySettings(page, { maxTokens: 3 });
  await send(page, 'First question');
  await finishedAnswer(page, 0);
  await send(page, 'Second question');
  await finishedAnswer(page, 1);

  await byTestId(page, 'edit-message').nth(1).click();
  await byTestId(page, 'edit-input').fill('Second question, edited');
  await byTestId(page, 'edit-input').press('Enter');
  await page.locator('[data-role="user"] [data-testid="version-count"]', { hasText: '2/2' }).waitFor();
  const edited = await finishedAnswer(page, 1);
  assert.equal(edited.outcome, 'done', edited.error);
  const questions = page.locator('[data-role="user"] [data-testid="message-content"]');
  assert.deepEqual(await questions.allInnerTexts(), ['First question', 'Second question, edited']);
  await screenshot(page, 'edited-message-versions');

  await page.locator('[data-role="user"] [data-testid="previous-version"]').click();
  assert.deepEqual(await questions.allInnerTexts(), ['First question', 'Second question']);
  assert.equal(await answers(page).count(), 2);
});

test('raw HTML in an answer is shown as text; tables scroll and code has a copy button', needsChat, async (t) => {
  const { page, consoleErrors, close } = await openBrowser({ viewport: MOBILE });
  t.after(close);
  await openChat(page, CHAT_URL);
  const now = Date.now();
  const text = [
    'Here is a script: <script>alert(1)</script> and <img src=x onerror="alert(2)">',
    '',
    '| Language | Greeting in that language, a long cell | Notes |',
    '|---|---|---|',
    '| Internationalization | Supercalifragilisticexpialidocious | antidisestablishmentarianism |',
    '',
    '```',
    'print("hello")',
    '```',
  ].join('\n');
  await putConversation(page, {
    id: 'html-answer',
    title: 'Raw HTML',
    createdAt: now,
    updatedAt: now,
    shown: {},
    messages: [
      { id: 'u', parentId: null, role: 'user', text: 'Show me HTML' },
      { id: 'a', parentId: 'u', role: 'assistant', text, outcome: 'done' },
    ],
  });
  await page.evaluate(() => localStorage.setItem('gpt2-chat.active-conversation.v1', 'html-answer'));
  await page.reload();
  await openChat(page, CHAT_URL);

  const content = answers(page).first().locator('[data-testid="message-content"]');
  assert.match(await content.innerText(), /<script>alert\(1\)<\/script> and <img src=x onerror="alert\(2\)">/);
  assert.equal(await content.locator('script, img').count(), 0);
  const scroller = content.locator('.table-scroll');
  assert.equal(await scroller.count(), 1);
  const cell = content.locator('td').nth(1);
  // Words stay whole: the cell is as wide as its longest word, and the table scrolls instead.
  assert.ok(await cell.evaluate((td) => td.scrollWidth <= td.clientWidth), 'no word cut inside its cell');
  assert.ok(await scroller.evaluate((s) => s.scrollWidth > s.clientWidth), 'the table scrolls sideways');
  assert.equal(await content.locator('[data-testid="copy-code"]').count(), 1);
  // Touch-sized buttons on a phone.
  for (const button of await page.locator('[data-testid="copy-answer"], [data-testid="regenerate"]').all()) {
    assert.ok((await button.boundingBox()).height >= 44, 'tap target at least 44 px tall');
  }
  assert.deepEqual(cspViolations(consoleErrors), []);
  await screenshot(page, 'mobile-raw-html-table-code');
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    assert.deepEqual(await axeViolations(page), [], `tables and code in the ${colorScheme} theme`);
  }
  await screenshot(page, 'mobile-raw-html-table-code-dark');
});

test('parseStats reads grouped numbers', () => {
  assert.deepEqual(parseStats('3 calls · 12 tokens · 4.1 tokens/s · 1,040 in context · seed 9'), {
    line: '3 calls · 12 tokens · 4.1 tokens/s · 1,040 in context · seed 9',
    calls: 3,
    tokens: 12,
    context: 1040,
    seed: '9',
  });
});
