// Chat scenarios against a page whose model canister has a model loaded.
// CHAT_URL: the page URL (e.g. printed by `node local-replica/cli.mjs start --serve frontend-canister/dist …`).
// E2E_CALL_BUDGET: instructions per call for the "several calls" scenarios (default 1: one step per call).
// E2E_MODEL_DIR: the model the canister serves; when set, the greedy answer must equal scripts/gpt2-jvm's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  answers,
  applySettings,
  byTestId,
  countUpdateCalls,
  cspViolations,
  finishedAnswer,
  needsUrl,
  openBrowser,
  openChat,
  parseStats,
  putConversation,
  send,
  storedConversations,
  tokensShown,
} from './browser.mjs';
import { jvm } from '../../model-canister/src/test/node/canister/support.mjs';

const CHAT_URL = process.env.CHAT_URL;
const MODEL_DIR = process.env.E2E_MODEL_DIR;

/** The answer's raw text as the page stored it (the DOM shows it rendered as Markdown). */
async function storedAnswer(page, index) {
  const [conversation] = await storedConversations(page);
  return conversation.messages.filter((m) => m.role === 'assistant')[index].text;
}
const CALL_BUDGET = process.env.E2E_CALL_BUDGET ?? '1';
const needsChat = { ...needsUrl('CHAT_URL', 'the chat page with a loaded model'), timeout: 600_000 };

/** Records every phase label and answer length the page shows, to prove the answer grew call by call. */
async function watchAnswer(page) {
  await page.evaluate(() => {
    const seen = { phases: [], lengths: [] };
    globalThis.e2eSeen = seen;
    new MutationObserver(() => {
      const phase = document.querySelector('[data-testid="phase"]')?.textContent;
      if (phase && seen.phases.at(-1) !== phase) seen.phases.push(phase);
      const answers = document.querySelectorAll('[data-role="assistant"] [data-testid="message-content"]');
      const length = answers[answers.length - 1]?.textContent.trim().length ?? 0;
      if (length && seen.lengths.at(-1) !== length) seen.lengths.push(length);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  return () => page.evaluate(() => globalThis.e2eSeen);
}

test('an answer arrives over several calls, showing the reading and generating phases', needsChat, async (t) => {
  const { page, consoleErrors, close } = await openBrowser();
  t.after(close);
  await openChat(page, CHAT_URL);
  assert.equal(await byTestId(page, 'model-pill').getAttribute('data-state'), 'ready');
  assert.equal(await byTestId(page, 'banner').isHidden(), true);

  await applySettings(page, { maxTokens: 6, temperature: 0, callBudget: CALL_BUDGET, randomSeed: false, seed: 1 });
  const seen = await watchAnswer(page);
  const prompt = 'What is the capital of France?';
  await send(page, prompt);
  await byTestId(page, 'stop').waitFor(); // generation is under way
  const answer = await finishedAnswer(page, 0);

  assert.equal(answer.outcome, 'done', answer.error);
  assert.ok(answer.stats.calls > 1, `expected several calls: ${answer.stats.line}`);
  assert.ok(answer.stats.tokens >= 1 && answer.stats.tokens <= 6, answer.stats.line);
  const { phases, lengths } = await seen();
  assert.ok(
    phases.some((p) => /^Reading prompt… \d+ tokens? left$/.test(p)),
    `phases: ${phases}`,
  );
  assert.ok(phases.includes('Generating…'), `phases: ${phases}`);
  if (answer.stats.tokens > 1) assert.ok(lengths.length > 1, `the answer should grow call by call: ${lengths}`);
  assert.equal(await byTestId(page, 'send').isVisible(), true);
  assert.deepEqual(cspViolations(consoleErrors), []);
  if (MODEL_DIR)
    assert.equal(
      await storedAnswer(page, 0),
      jvm(MODEL_DIR, { prompt, maxNewTokens: 6 }).text,
      'greedy answer = scripts/gpt2-jvm',
    );
  else t.diagnostic('E2E_MODEL_DIR is not set: the answer is not compared with scripts/gpt2-jvm');
});

test('stop halts generation between calls and keeps what arrived', needsChat, async (t) => {
  const { page, close } = await openBrowser();
  t.after(close);
  await openChat(page, CHAT_URL);
  await applySettings(page, { maxTokens: 200, callBudget: CALL_BUDGET });

  await send(page, 'Tell me a long story about a dragon.');
  await tokensShown(page, 2);
  await byTestId(page, 'stop').click();
  const answer = await finishedAnswer(page, 0);

  assert.equal(answer.outcome, 'stopped');
  assert.ok(answer.stats.tokens >= 2 && answer.stats.tokens < 200, answer.stats.line);
  assert.equal(await byTestId(page, 'stopped-note').isVisible(), true);
  await page.waitForTimeout(2_000);
  const later = parseStats(await answers(page).first().locator('[data-testid="answer-stats"]').innerText());
  assert.equal(later.calls, answer.stats.calls, 'no calls after stop');
  assert.equal(await byTestId(page, 'send').isVisible(), true);
});

test('a follow-up continues the same session, and the conversation survives a reload', needsChat, async (t) => {
  const { page, close } = await openBrowser();
  t.after(close);
  await openChat(page, CHAT_URL);
  await applySettings(page, { maxTokens: 4 });

  await send(page, 'Hello! Who are you?');
  const first = await finishedAnswer(page, 0);
  assert.equal(first.outcome, 'done', first.error);
  await send(page, 'Tell me more.');
  const second = await finishedAnswer(page, 1);
  assert.equal(second.outcome, 'done', second.error);
  // A new session would hold only the second exchange.
  assert.ok(
    second.stats.context > first.stats.context + second.stats.tokens,
    `context should keep the first exchange: ${first.stats.line} / ${second.stats.line}`,
  );

  await page.reload();
  await openChat(page, CHAT_URL);
  assert.deepEqual(await byTestId(page, 'conversation-item').allInnerTexts(), ['Hello! Who are you?']);
  assert.equal(await byTestId(page, 'chat-title').innerText(), 'Hello! Who are you?');
  assert.equal(await byTestId(page, 'message').count(), 4);
  assert.equal((await finishedAnswer(page, 1)).text, second.text);

  // The restored conversation still continues its session.
  await send(page, 'And then?');
  const third = await finishedAnswer(page, 2);
  assert.equal(third.outcome, 'done', third.error);
  assert.ok(third.stats.context > second.stats.context, `${second.stats.line} / ${third.stats.line}`);
});

test('a session the canister no longer knows is replayed into a new one', needsChat, async (t) => {
  const { page, close } = await openBrowser();
  t.after(close);
  await openChat(page, CHAT_URL);
  await applySettings(page, { maxTokens: 3 });
  await send(page, 'Hi there.');
  const first = await finishedAnswer(page, 0);
  assert.equal(first.outcome, 'done', first.error);

  // As after an upgrade or an eviction: the stored session id points nowhere.
  const [conversation] = await storedConversations(page);
  conversation.messages.find((m) => m.role === 'assistant').sessionId = '987654321';
  await putConversation(page, conversation);
  await page.reload();
  await openChat(page, CHAT_URL);
  await send(page, 'What did I just say?');
  const second = await finishedAnswer(page, 1);

  assert.equal(second.outcome, 'done', second.error);
  assert.equal(await byTestId(page, 'replayed-note').isVisible(), true);
  // The replayed prompt carries the first exchange, so the new session holds more than this turn.
  assert.ok(second.stats.context > first.stats.context, `${first.stats.line} / ${second.stats.line}`);
});

test('settings shape the request: token limit, greedy sampling and a fixed seed', needsChat, async (t) => {
  const { page, close } = await openBrowser();
  t.after(close);
  await openChat(page, CHAT_URL);
  await applySettings(page, { maxTokens: 3, temperature: 0, randomSeed: false, seed: 7 });

  const prompt = 'Name three colors.';
  await send(page, prompt);
  const first = await finishedAnswer(page, 0);
  assert.equal(first.outcome, 'done', first.error);
  assert.ok(first.stats.tokens <= 3, first.stats.line);
  assert.equal(first.stats.seed, '7');

  // Same prompt, greedy, same seed, fresh session: the same answer.
  await byTestId(page, 'new-chat').click();
  await send(page, prompt);
  const again = await finishedAnswer(page, 0);
  assert.equal(again.text, first.text);

  // Settings persist across a reload.
  await page.reload();
  await openChat(page, CHAT_URL);
  await byTestId(page, 'open-settings').click();
  assert.equal(await byTestId(page, 'setting-max-tokens').inputValue(), '3');
  assert.equal(await byTestId(page, 'setting-temperature').inputValue(), '0');
  assert.equal(await byTestId(page, 'setting-random-seed').isChecked(), false);
  assert.equal(await byTestId(page, 'setting-seed').inputValue(), '7');
});

test('regenerate adds a version of the answer; the arrows switch between versions', needsChat, async (t) => {
  const { page, close } = await openBrowser();
  t.after(close);
  await openChat(page, CHAT_URL);
  await applySettings(page, { maxTokens: 4, temperature: 0, randomSeed: false, seed: 3 });

  await send(page, 'Say something nice.');
  const first = await finishedAnswer(page, 0);
  await byTestId(page, 'regenerate').click();
  await byTestId(page, 'version-count').filter({ hasText: '2/2' }).waitFor();
  const regenerated = await finishedAnswer(page, 0);

  assert.equal(await answers(page).count(), 1);
  assert.equal(regenerated.outcome, 'done', regenerated.error);
  // Greedy with the same seed in a fresh session: the same answer and the same context size.
  assert.equal(regenerated.text, first.text);
  assert.equal(regenerated.stats.context, first.stats.context);
  await byTestId(page, 'previous-version').click();
  assert.equal(await byTestId(page, 'version-count').innerText(), '1/2');
  assert.equal((await finishedAnswer(page, 0)).stats.line, first.stats.line);
});

test(
  'the next continue_turn waits in the queue while one runs; Stop right after Send asks for nothing more',
  needsChat,
  async (t) => {
    const { page, context, close } = await openBrowser();
    t.after(close);
    await openChat(page, CHAT_URL);
    await applySettings(page, { maxTokens: 12, callBudget: CALL_BUDGET });
    let inFlight = 0;
    let mostInFlight = 0;
    const isCall = (request) => request.method() === 'POST' && /\/call$/.test(new URL(request.url()).pathname);
    page.on('request', (request) => isCall(request) && (mostInFlight = Math.max(mostInFlight, ++inFlight)));
    for (const event of ['requestfinished', 'requestfailed'])
      page.on(event, (request) => isCall(request) && inFlight--);

    await send(page, 'Count to ten.');
    const answer = await finishedAnswer(page, 0);
    assert.equal(answer.outcome, 'done', answer.error);
    assert.ok(answer.stats.calls > 2, answer.stats.line);
    assert.equal(mostInFlight, 2, 'one call running and one queued, never more');

    // Stop while the turn's first call runs (held back half a second on its way, as on a slow network): its reply
    // is shown and no other call is made.
    await byTestId(page, 'new-chat').click();
    const updateCalls = countUpdateCalls(page);
    await context.route(/\/call$/, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await route.continue();
    });
    await send(page, 'Another long answer, please.');
    await byTestId(page, 'stop').click();
    const stopped = await finishedAnswer(page, 0);
    assert.equal(stopped.outcome, 'stopped');
    assert.equal(stopped.stats.calls, 1, stopped.stats.line);
    await page.waitForTimeout(1_000);
    assert.equal(updateCalls(), 1);
  },
);
