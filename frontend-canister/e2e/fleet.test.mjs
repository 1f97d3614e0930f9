// The page on a fleet of model canisters: a conversation whose canister is stopped goes on on another one.
// CHAT_URL_FLEET: a page whose ic_env cookie names two model canisters (model, model_1), both with a model loaded;
// E2E_CONTROLLER: their controller's key (Ed25519KeyIdentity JSON), to stop one. `node e2e/run-local.mjs
// e2e/fleet.test.mjs` sets both.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  answers,
  applySettings,
  byTestId,
  cspViolations,
  finishedAnswer,
  needsUrl,
  openBrowser,
  openChat,
  send,
  storedConversations,
} from './browser.mjs';
import {
  Ed25519KeyIdentity,
  Principal,
  managementActor,
  newAgent,
} from '../../model-canister/src/test/node/canister/support.mjs';

const CHAT_URL = process.env.CHAT_URL_FLEET;
const options = {
  ...needsUrl('CHAT_URL_FLEET', 'the chat page on a fleet of two model canisters'),
  timeout: 600_000,
};

const replica = (path, init) => fetch(new URL(path, CHAT_URL), init);

/** The turn calls (start_turn, continue_turn) the replica ran since its log was last cleared, in order. */
async function turnCalls() {
  const messages = await (await replica('/_/messages')).json();
  return messages.filter((m) => m.kind === 'update' && /^(start|continue)_turn$/.test(m.method));
}

const clearLog = () => replica('/_/messages', { method: 'DELETE' });

/** stop_canister through the replica's management canister, as the canisters' controller. */
async function stopCanister(canisterId) {
  const agent = await newAgent(new URL(CHAT_URL).origin, Ed25519KeyIdentity.fromJSON(process.env.E2E_CONTROLLER));
  await managementActor(agent).stop_canister({ canister_id: Principal.fromText(canisterId) });
}

/** The canister ids the page sends update calls to, in order. */
function recordCallTargets(page) {
  const targets = [];
  page.on('request', (request) => {
    const call = new URL(request.url()).pathname.match(/^\/api\/v\d\/canister\/([^/]+)\/call$/);
    if (call && request.method() === 'POST') targets.push(call[1]);
  });
  return targets;
}

/** What the page shows of the conversation: each message's role and text, and the notes of moved answers. */
async function shownConversation(page) {
  return page.locator('[data-testid="message"]').evaluateAll((messages) =>
    messages.map((m) => ({
      role: m.dataset.role,
      text: m.querySelector('[data-testid="message-content"]').textContent.trim(),
      moved: m.querySelector('[data-testid="moved-note"]')?.textContent,
    })),
  );
}

test(
  'a conversation whose canister is stopped continues on the other canister, and stays there after a reload',
  options,
  async (t) => {
    const names = await (await replica('/_/names')).json();
    assert.deepEqual(Object.keys(names).sort(), ['model', 'model_1'], 'the cookie names a fleet of two');
    const nameOf = Object.fromEntries(Object.entries(names).map(([name, id]) => [id, name]));
    const { page, consoleErrors, close } = await openBrowser();
    t.after(close);
    await openChat(page, CHAT_URL);
    await applySettings(page, { maxTokens: 4, temperature: 0, randomSeed: false, seed: 1 });

    await clearLog();
    await send(page, 'What is the capital of France?');
    const first = await finishedAnswer(page, 0);
    assert.equal(first.outcome, 'done', first.error);
    const firstCalls = await turnCalls();
    const home = firstCalls[0].canister;
    assert.ok(
      firstCalls.every((call) => call.canister === home),
      'the first answer ran on one canister',
    );
    const [other] = Object.values(names).filter((id) => id !== home);

    await stopCanister(home);
    await clearLog();
    const targets = recordCallTargets(page);
    await send(page, 'And what about Germany?');
    const second = await finishedAnswer(page, 1);

    assert.equal(second.outcome, 'done', second.error);
    assert.ok(second.stats.tokens >= 1, second.stats.line);
    // The page asked the conversation's canister first (refused: stopped), then only the other one...
    assert.equal(targets[0], home);
    assert.ok(targets.length > 1 && targets.slice(1).every((id) => id === other), `calls went to ${targets}`);
    // ...where the replica ran every call of the follow-up, starting a new session that replays the conversation.
    const followUp = await turnCalls();
    assert.ok(
      followUp.every((call) => call.canister === other && call.outcome === 'reply'),
      JSON.stringify(followUp),
    );
    assert.equal(followUp[0]?.method, 'start_turn', JSON.stringify(followUp));
    const note = await byTestId(page, 'moved-note').innerText();
    assert.match(note, new RegExp(`^Moved to ${nameOf[other]}: ${nameOf[home]} was stopped`));
    const [stored] = await storedConversations(page);
    assert.equal(stored.canisterId, other, 'the conversation now lives on the other canister');
    // The status follows the conversation to its new canister.
    await page.waitForSelector('[data-testid="model-pill"][data-state="ready"]');
    assert.equal(await byTestId(page, 'banner').isHidden(), true);

    const before = await shownConversation(page);
    assert.equal(before.length, 4);
    await openChat(page, CHAT_URL); // a reload
    await answers(page).nth(1).waitFor();
    assert.deepEqual(await shownConversation(page), before);
    assert.equal((await storedConversations(page))[0].canisterId, other);
    assert.deepEqual(cspViolations(consoleErrors), []);
  },
);
