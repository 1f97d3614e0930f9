// Chat scenarios under the local replica's IC mainnet timing model (update calls take simulated rounds; queries
// run at once on the last certified state). `node e2e/run-local.mjs` runs them on a replica of their own, with
// E2E_IC_TIMING=mainnet and E2E_TIME_SCALE set; without E2E_IC_TIMING they are skipped.
// CHAT_URL: the page URL, on a replica started with --ic-timing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  answers,
  applySettings,
  byTestId,
  finishedAnswer,
  needsUrl,
  openBrowser,
  openChat,
  parseStats,
  send,
} from './browser.mjs';
import { HttpAgent, modelActor } from '../../model-canister/src/test/node/canister/support.mjs';

const CHAT_URL = process.env.CHAT_URL;
const TIME_SCALE = Number(process.env.E2E_TIME_SCALE ?? 1);
const options = {
  ...needsUrl('CHAT_URL', 'the chat page with a loaded model'),
  ...(process.env.E2E_IC_TIMING
    ? {}
    : { skip: 'set E2E_IC_TIMING (the replica behind CHAT_URL runs with --ic-timing)' }),
  timeout: 300_000,
};
// Enough tokens that the small e2e model's answer needs several calls (the first call gets one 2 B slice).
const LONG_ANSWER = 400;

/** The replica's simulated clock; null when it runs without IC timing. */
async function simulatedTime() {
  const response = await fetch(new URL('/_/time', CHAT_URL));
  assert.equal(response.status, 200);
  return response.json();
}

/** The model canister's status, queried from here with the official agent (an anonymous caller). */
async function canisterStatus() {
  const names = await (await fetch(new URL('/_/names', CHAT_URL))).json();
  const agent = await HttpAgent.create({ host: new URL(CHAT_URL).origin, shouldFetchRootKey: true });
  return modelActor(agent, names.model).status();
}

/** Calls of the replica's instruction log to the model canister's turn methods. */
async function turnCalls() {
  const messages = await (await fetch(new URL('/_/messages', CHAT_URL))).json();
  return messages.filter((m) => m.kind === 'update' && (m.method === 'start_turn' || m.method === 'continue_turn'));
}

/** Update calls the page has sent and not yet had answered (the v3 call endpoint answers once certified). */
function trackUpdateCalls(page) {
  const pending = new Set();
  const isCall = (request) =>
    request.method() === 'POST' && /\/canister\/[^/]+\/call$/.test(new URL(request.url()).pathname);
  page.on('request', (request) => isCall(request) && pending.add(request));
  page.on('requestfinished', (request) => pending.delete(request));
  page.on('requestfailed', (request) => pending.delete(request));
  return () => pending.size;
}

test('the replica runs with the mainnet timing model', options, async () => {
  const first = await simulatedTime();
  assert.equal(typeof first.seconds, 'number', 'GET /_/time: the replica has no IC timing');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const later = await simulatedTime();
  assert.ok(later.seconds > first.seconds, `the simulated clock runs: ${first.seconds} → ${later.seconds}`);
});

test('the first words appear before the answer is complete (default call budgets)', options, async (t) => {
  const { page, close } = await openBrowser();
  t.after(close);
  await openChat(page, CHAT_URL);
  await applySettings(page, { maxTokens: LONG_ANSWER });
  const sentAt = (await simulatedTime()).seconds;
  await send(page, 'Tell me a long story about a dragon.');

  // The moment the answer first shows text: it must still be running (no outcome yet).
  const first = await page.waitForFunction(
    () => {
      const answer = document.querySelector('[data-testid="message"][data-role="assistant"]');
      const text = answer?.querySelector('[data-testid="message-content"]')?.textContent.trim();
      return text ? { outcome: answer.getAttribute('data-outcome'), length: text.length } : null;
    },
    null,
    { timeout: 120_000, polling: 'raf' },
  );
  const firstWords = await first.jsonValue();
  const firstWordsAt = (await simulatedTime()).seconds;
  const answer = await finishedAnswer(page, 0);

  assert.equal(firstWords.outcome, null, 'the first words came with the finished answer');
  assert.equal(answer.outcome, 'done', answer.error);
  assert.ok(answer.stats.calls > 1, `expected several calls: ${answer.stats.line}`);
  assert.ok(
    answer.text.length > firstWords.length,
    `the answer grew after its first words (${firstWords.length} chars)`,
  );
  const doneAt = (await simulatedTime()).seconds;
  // Each call takes at least a round to be accepted, one to execute and one to be certified.
  assert.ok(firstWordsAt - sentAt >= 2, `first words ${firstWordsAt - sentAt} simulated s after Send`);
  assert.ok(doneAt > firstWordsAt, `done at ${doneAt}, first words at ${firstWordsAt}`);
  t.diagnostic(
    `first words after ${(firstWordsAt - sentAt).toFixed(1)} s, done after ${(doneAt - sentAt).toFixed(1)} s (simulated); ${answer.stats.line}`,
  );
});

test('Stop 300 ms after Send ends the answer as stopped, and nothing is generated after it', options, async (t) => {
  const { page, close } = await openBrowser();
  t.after(close);
  await openChat(page, CHAT_URL);
  await applySettings(page, { maxTokens: LONG_ANSWER });
  const callsBefore = (await turnCalls()).length;

  await send(page, 'Tell me a long story about a dragon.');
  await page.waitForTimeout(300);
  await byTestId(page, 'stop').click();
  const answer = await finishedAnswer(page, 0);
  assert.equal(answer.outcome, 'stopped', answer.error);
  assert.ok(answer.stats.tokens < LONG_ANSWER, answer.stats.line);

  // Give a call the page might still send (or one left queued) time to run: 8 simulated rounds.
  const callsAtStop = (await turnCalls()).length;
  await page.waitForTimeout(Math.max(2_000, 8_000 * TIME_SCALE));
  const callsAfter = await turnCalls();
  assert.equal(callsAfter.length, callsAtStop, 'the canister ran turn calls after the stopped outcome');
  assert.equal(callsAtStop - callsBefore, answer.stats.calls, 'the canister ran as many turn calls as the page shows');
  // The canister's last generating call is the page's last one: it produced the tokens the page shows last.
  const status = await canisterStatus();
  assert.ok(
    status.last_call_tokens <= answer.stats.tokens,
    `last call ${status.last_call_tokens} tokens; ${answer.stats.line}`,
  );
  const later = parseStats(await answers(page).first().locator('[data-testid="answer-stats"]').innerText());
  assert.equal(later.tokens, answer.stats.tokens, 'no tokens shown after stop');
  assert.equal(later.calls, answer.stats.calls, 'no calls after stop');
});

test('the status dialog answers while an answer is being generated', options, async (t) => {
  const { page, close } = await openBrowser();
  t.after(close);
  await openChat(page, CHAT_URL);
  await applySettings(page, { maxTokens: LONG_ANSWER });
  const pendingUpdates = trackUpdateCalls(page);
  await send(page, 'Tell me a long story about a dragon.');
  await byTestId(page, 'stop').waitFor();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="phase"]')?.textContent === 'Generating…',
    null,
    {
      timeout: 120_000,
    },
  );

  await byTestId(page, 'model-pill').click();
  await byTestId(page, 'status-dialog').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="status-sessions"]'), null, {
    timeout: 10_000,
  });
  assert.ok(pendingUpdates() > 0, 'an update call is running when the status is asked');
  const isQuery = (response) => /\/canister\/[^/]+\/query$/.test(new URL(response.url()).pathname);
  const asked = Date.now();
  const [response] = await Promise.all([
    page.waitForResponse(isQuery, { timeout: 30_000 }),
    byTestId(page, 'status-refresh').click(),
  ]);
  const waited = Date.now() - asked;
  const updatesAtAnswer = pendingUpdates();
  assert.equal(response.status(), 200);
  assert.equal(await answers(page).first().getAttribute('data-outcome'), null, 'the answer is still being generated');
  assert.ok(updatesAtAnswer > 0, 'the status answered while an update call was still running');
  // A later call runs up to 2 slices and is certified a round later (3 simulated s); a query blocked behind it
  // would wait about that long.
  assert.ok(waited < 2_000 * TIME_SCALE, `the status query took ${waited} ms`);
  assert.match(await byTestId(page, 'status-model-loaded').innerText(), /yes/);
  t.diagnostic(`status answered in ${waited} ms with ${updatesAtAnswer} update call(s) pending`);
  await byTestId(page, 'status-close').click();
  await byTestId(page, 'stop').click();
  await finishedAnswer(page, 0);
});
