// CHAT_URL_UNLOADED: a chat page whose model canister has no model loaded (installed, nothing uploaded).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { byTestId, finishedAnswer, needsUrl, openBrowser, openChat, send } from './browser.mjs';

test(
  'says clearly that the model is not loaded, before and after sending',
  { ...needsUrl('CHAT_URL_UNLOADED', 'a chat page whose model canister has no model loaded'), timeout: 180_000 },
  async (t) => {
    const { page, close } = await openBrowser();
    t.after(close);
    await openChat(page, process.env.CHAT_URL_UNLOADED);

    assert.equal(await byTestId(page, 'model-pill').getAttribute('data-state'), 'not-loaded');
    assert.match(await byTestId(page, 'banner').innerText(), /model is not loaded/i);

    await send(page, 'Hello?');
    const answer = await finishedAnswer(page, 0);
    assert.equal(answer.outcome, 'error');
    assert.match(answer.error, /model is not loaded/i);
    assert.equal(await byTestId(page, 'regenerate').innerText(), 'Retry');

    await byTestId(page, 'model-pill').click();
    assert.equal(await byTestId(page, 'status-model-loaded').innerText(), 'no');
  },
);
