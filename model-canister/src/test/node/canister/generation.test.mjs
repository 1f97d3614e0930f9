// Generation through the official agent against the JVM reference (scripts/gpt2-jvm): generate, inference,
// tokenize/decode, the session API (start_turn / continue_turn / end_session) and the instruction accounting.
//
//   node --test model-canister/src/test/node/canister/

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  UPDATE_LIMIT, actorFor, assertErr, assertOk, frame, jvm, lastMessage, modelFiles, newIdentity, randomModel, runTurn,
  setUp, turnRequest, uploadModel, withoutStop,
} from './support.mjs';

const PROMPTS = ['Hello there', 'Grüße aus Zürich — 東京 ☕ and emoji 🦀 too!'];
/** Small enough that a turn of a few tokens spreads over several calls (a generated token costs ≈ 10 M here). */
const SMALL_BUDGET = 15_000_000;

let env;
let model;
/** Every generating call's reply and log entry, checked against the 40 B limit at the end. */
const generatingCalls = [];

/** Runs `call`, then checks status.last_call_instructions against the replica's log entry of `method`. */
async function metered(method, call) {
  const result = await call();
  const entry = lastMessage(env.replica, method, env.canisterId);
  const status = await env.actor.status();
  const log = { method, entry, lastCall: status.last_call_instructions };
  generatingCalls.push(log);
  return { result, ...log };
}

/**
 * status.last_call_instructions counts the generation loop of the call (ModelService.run); the replica meters the
 * whole message: also decoding the Candid argument, tokenizing (generate), checks, decoding the answer to text and
 * encoding the reply. That overhead is small (0.1 to 0.5 M instructions on this model), so the two agree within
 * 2 M instructions + 1%.
 */
function assertAccounting({ entry, lastCall }, what) {
  assert.ok(entry, `${what}: no log entry`);
  assert.equal(entry.outcome, 'reply', what);
  const logged = BigInt(entry.instructions);
  assert.ok(logged < BigInt(UPDATE_LIMIT), `${what}: ${logged} instructions, over the 40 B limit`);
  assert.ok(lastCall > 0n && lastCall <= logged, `${what}: status says ${lastCall}, the replica ${logged}`);
  const overhead = logged - lastCall;
  assert.ok(overhead <= 2_000_000n + logged / 100n, `${what}: status says ${lastCall}, the replica ${logged} (overhead ${overhead})`);
}

before(async () => {
  model = randomModel();
  env = await setUp();
  await uploadModel(env.actor, modelFiles(model));
});

after(async () => {
  await env?.close();
});

describe('one-shot generation matches the JVM reference', () => {
  for (const prompt of PROMPTS) {
    test(`generate at temperature 0: ${JSON.stringify(prompt)}`, async () => {
      const reference = jvm(model, { prompt, maxNewTokens: 24 });
      const { result, ...log } = await metered('generate', () => env.actor.generate(prompt, 24, 0));
      assert.equal(assertOk(result, 'generate'), reference.text);
      assertAccounting(log, 'generate');
    });

    test(`tokenize is the JVM's framing, decode round-trips: ${JSON.stringify(prompt)}`, async () => {
      const { token_ids: ids, tokens } = assertOk(await env.actor.tokenize(prompt), 'tokenize');
      assert.equal(tokens.length, ids.length);
      assert.ok(ids.length > 0);
      assert.equal(assertOk(await env.actor.decode(ids), 'decode'), prompt);
      // The JVM frames `--prompt` as [50258, 198] + tokenize(text) + [628, 50259, 198]: fed as raw ids it must
      // give the same answer, and so must the canister's inference.
      const byText = jvm(model, { prompt, maxNewTokens: 12 });
      const byIds = jvm(model, { promptIds: frame(Array.from(ids)), maxNewTokens: 12 });
      assert.deepEqual(byIds.ids, byText.ids);
      const { result } = await metered('inference', () => env.actor.inference(frame(Array.from(ids)), 12, 0));
      assert.deepEqual(Array.from(assertOk(assertOk(result, 'inference').result, 'inference.result')), withoutStop(byText.ids));
    });
  }

  test('decode round-trips special tokens away and whitespace exactly', async () => {
    for (const text of ['  leading and trailing  ', 'tabs\tand\nnewlines\n\n', 'a', '1234567890 !?']) {
      const { token_ids: ids } = assertOk(await env.actor.tokenize(text));
      assert.equal(assertOk(await env.actor.decode(ids)), text, JSON.stringify(text));
    }
    // Special tokens are skipped by decode.
    assert.equal(assertOk(await env.actor.decode([50258, 198, 15496, 628, 50259])), '\nHello\n\n');
  });

  test('inference at temperature 0 returns the JVM ids (without a trailing stop token)', async () => {
    for (const ids of [[15496, 612, 11], [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13]]) {
      const reference = jvm(model, { promptIds: ids, maxNewTokens: 30 });
      const { result, ...log } = await metered('inference', () => env.actor.inference(ids, 30, 0));
      assert.deepEqual(Array.from(assertOk(assertOk(result).result)), withoutStop(reference.ids));
      assertAccounting(log, 'inference');
    }
  });

  test('inference stops at a full context like the JVM', async () => {
    const ids = Array.from({ length: 120 }, (_, i) => (i * 7919) % 50000);
    const reference = jvm(model, { promptIds: ids, maxNewTokens: 20 });
    const { result } = await metered('inference', () => env.actor.inference(ids, 20, 0));
    const got = Array.from(assertOk(assertOk(result).result));
    assert.deepEqual(got, withoutStop(reference.ids));
    // 128 positions: the cache takes the 120 prompt tokens and 8 generated ones; the 9th comes from the last position.
    assert.equal(got.length, 128 - 120 + 1, `generated ${got.length} tokens after 120 in a 128-token context`);
  });

  test('a prompt filling every position still gives its one token', async () => {
    const ids = Array.from({ length: 128 }, (_, i) => (i * 104729) % 50000);
    const { result } = await metered('inference', () => env.actor.inference(ids, 5, 0));
    const got = Array.from(assertOk(assertOk(result).result));
    assert.deepEqual(got, withoutStop(jvm(model, { promptIds: ids, maxNewTokens: 5 }).ids));
    assert.equal(got.length, 1);
  });
});

test('encoding a prompt of more than 1,000 tokens costs a few hundred million instructions at most', async (t) => {
  // Varied words (a seeded generator), so the tokenizer's word cache does not hide the BPE work.
  let state = 12345;
  const letter = () => String.fromCharCode(97 + ((state = (state * 1103515245 + 12345) % 2147483648) % 26));
  const words = Array.from({ length: 700 }, (_, i) => Array.from({ length: 2 + (i % 9) }, letter).join(''));
  const text = words.join(' ') + '. Ünïcödé, 東京, and emoji 🦀!';
  const { token_ids: ids } = assertOk(await env.actor.tokenize(text));
  assert.ok(ids.length > 1000, `${ids.length} tokens`);
  const cost = Number(lastMessage(env.replica, 'tokenize', env.canisterId).instructions);
  t.diagnostic(`tokenize: ${ids.length} tokens in ${(cost / 1e6).toFixed(0)} M instructions`);
  assert.ok(cost < 400e6, `tokenize cost ${cost} instructions for ${ids.length} tokens`);
});

describe('sessions', () => {
  test('a turn spread over several calls gives the one-shot answer at temperature 0', async () => {
    const prompt = PROMPTS[0];
    const reference = jvm(model, { prompt, maxNewTokens: 12 });
    const turn = await runTurn(env.actor, turnRequest({ prompt, maxNewTokens: 12, callBudget: SMALL_BUDGET }));
    assert.ok(turn.calls >= 3, `the turn took ${turn.calls} calls`);
    assert.deepEqual(turn.tokens, withoutStop(reference.ids));
    assert.equal(turn.text, reference.text);
    const oneShot = assertOk(await env.actor.generate(prompt, 12, 0));
    assert.equal(turn.text, oneShot);
    const last = turn.progress[turn.progress.length - 1];
    assert.equal(last.generated_tokens, turn.tokens.length);
    assert.ok('MaxTokens' in last.stop_reason[0] || 'EndOfText' in last.stop_reason[0]);
    // Every call stayed near its budget: the budget is checked before each step, so a call may overrun it by at
    // most one step (one generated token here, ≈ 10 M instructions on this model).
    for (const p of turn.progress) {
      assert.ok(p.instructions <= BigInt(SMALL_BUDGET) + 15_000_000n, `a call spent ${p.instructions}`);
    }
    assertOk(await env.actor.end_session(turn.sessionId));
  });

  test('raw prompt_ids in a turn give the inference answer', async () => {
    const ids = [464, 2068, 7586, 21831];
    const reference = jvm(model, { promptIds: ids, maxNewTokens: 10 });
    const turn = await runTurn(env.actor, turnRequest({ promptIds: ids, maxNewTokens: 10, callBudget: SMALL_BUDGET }));
    assert.ok(turn.calls >= 2);
    assert.deepEqual(turn.tokens, withoutStop(reference.ids));
    assertOk(await env.actor.end_session(turn.sessionId));
  });

  test('sampling with a fixed seed gives the same tokens however the budget splits the work', async () => {
    const settings = { prompt: PROMPTS[1], maxNewTokens: 16, temperature: 0.9, topK: 40, topP: 0.95, seed: 1234n };
    const whole = await runTurn(env.actor, turnRequest(settings));
    assert.equal(whole.calls, 1);
    assertOk(await env.actor.end_session(whole.sessionId)); // a caller holds at most 2 sessions by default
    const split = await runTurn(env.actor, turnRequest({ ...settings, callBudget: SMALL_BUDGET }));
    assert.ok(split.calls >= 4, `split over ${split.calls} calls`);
    assert.deepEqual(split.tokens, whole.tokens);
    assert.equal(split.text, whole.text);
    // The same sampler on the JVM.
    const reference = jvm(model, { prompt: PROMPTS[1], maxNewTokens: 16, temperature: 0.9, topK: 40, topP: 0.95, seed: 1234 });
    assert.deepEqual(whole.tokens, withoutStop(reference.ids));
    // Another seed samples another answer (with 16 tokens, a collision is practically impossible).
    const other = await runTurn(env.actor, turnRequest({ ...settings, seed: 99n }));
    assert.notDeepEqual(other.tokens, whole.tokens);
    for (const t of [split, other]) assertOk(await env.actor.end_session(t.sessionId));
  });

  test('a follow-up turn reads only the new tokens', async (t) => {
    const firstPrompt = 'Tell me a story about a dragon.';
    const first = await runTurn(env.actor, turnRequest({ prompt: firstPrompt, maxNewTokens: 60 }));
    let end = first.progress[first.progress.length - 1];
    assert.ok('MaxTokens' in end.stop_reason[0], 'the random model is not expected to stop by itself');
    let history = [...frame(Array.from(assertOk(await env.actor.tokenize(firstPrompt)).token_ids)), ...first.tokens];
    assert.equal(end.context_tokens, history.length - 1, 'the KV cache holds all but the last generated token');

    /** A follow-up turn, and the same context read from scratch in a new session. */
    async function followUpVsFresh(prompt, maxNewTokens) {
      // The previous answer was cut short, so the message is a blank line, then the framed instruction.
      const message = [628, ...frame(Array.from(assertOk(await env.actor.tokenize(prompt)).token_ids))];
      const followUp = await runTurn(env.actor, turnRequest({ sessionId: first.sessionId, prompt, maxNewTokens }));
      const followUpLog = lastMessage(env.replica, 'start_turn', env.canisterId);
      assert.equal(followUp.sessionId, first.sessionId);
      assert.equal(followUp.calls, 1);
      const followUpEnd = followUp.progress[followUp.progress.length - 1];
      assert.ok('MaxTokens' in followUpEnd.stop_reason[0]);
      // context_tokens grows by the new message and the new answer, nothing else.
      assert.equal(followUpEnd.context_tokens, end.context_tokens + 1 + message.length + followUp.tokens.length - 1);
      const fresh = await runTurn(env.actor, turnRequest({ promptIds: [...history, ...message], maxNewTokens }));
      const freshLog = lastMessage(env.replica, 'start_turn', env.canisterId);
      assert.equal(fresh.calls, 1);
      assert.deepEqual(followUp.tokens, fresh.tokens, 'the cached conversation gives what reading it all again gives');
      assertOk(await env.actor.end_session(fresh.sessionId));
      history = [...history, ...message, ...followUp.tokens];
      end = followUpEnd;
      t.diagnostic(`context ${history.length} tokens, message ${message.length}, ${maxNewTokens} generated: follow-up `
        + `${followUpLog.instructions} instructions, from scratch ${freshLog.instructions}`);
      return { followUpCost: followUpLog.instructions, freshCost: freshLog.instructions };
    }

    // One generated token: the cost is mostly reading the prompt (the 50260-wide LM head runs once), so a follow-up
    // that reads its 9 new tokens must cost a fraction of reading all ~80 again.
    const short = await followUpVsFresh('And then?', 1);
    assert.ok(short.followUpCost * 3 < short.freshCost, `follow-up ${short.followUpCost}, from scratch ${short.freshCost}`);
    // A second follow-up generating several tokens: still the tokens of the whole context read from scratch.
    const longer = await followUpVsFresh('Why did the dragon do that?', 6);
    assert.ok(longer.followUpCost < longer.freshCost);
    assertOk(await env.actor.end_session(first.sessionId));
  });

  test("sessions are private, end_session ends them, unknown ones give a clear Err", async () => {
    const before = (await env.actor.status()).sessions;
    const turn = assertOk(await env.actor.start_turn(turnRequest({ prompt: 'Hi', maxNewTokens: 20, callBudget: SMALL_BUDGET })));
    assert.equal(turn.done, false);
    assert.equal((await env.actor.status()).sessions, before + 1);
    const id = turn.session_id;

    const stranger = await actorFor(env, newIdentity(77));
    assertErr(await stranger.continue_turn(id), /unknown session/);
    assertErr(await stranger.start_turn(turnRequest({ sessionId: id, prompt: 'mine now' })), /unknown session/);
    assertErr(await stranger.end_session(id), /unknown session/);
    // The owner's session is untouched by the stranger's attempts.
    const next = assertOk(await env.actor.continue_turn(id));
    assert.equal(next.session_id, id);
    assert.ok(next.generated_tokens > turn.generated_tokens || next.prompt_tokens_remaining < turn.prompt_tokens_remaining);

    assertOk(await env.actor.end_session(id));
    assert.equal((await env.actor.status()).sessions, before);
    assertErr(await env.actor.continue_turn(id), /unknown session/);
    assertErr(await env.actor.end_session(id), /unknown session/);
    assertErr(await env.actor.start_turn(turnRequest({ sessionId: id, prompt: 'again' })), /unknown session/);
    assertErr(await env.actor.continue_turn(123456789n), /unknown session 123456789/);
  });
});

describe('instruction accounting', () => {
  test('turn calls report their instructions like the replica meters them', async () => {
    const request = turnRequest({ prompt: PROMPTS[1], maxNewTokens: 6, callBudget: SMALL_BUDGET });
    let p = assertOk((await metered('start_turn', () => env.actor.start_turn(request))).result);
    let log = generatingCalls[generatingCalls.length - 1];
    assertAccounting(log, 'start_turn');
    assert.equal(p.instructions, log.lastCall);
    while (!p.done) {
      p = assertOk((await metered('continue_turn', () => env.actor.continue_turn(p.session_id))).result);
      log = generatingCalls[generatingCalls.length - 1];
      assertAccounting(log, 'continue_turn');
      assert.equal(p.instructions, log.lastCall);
      assert.equal((await env.actor.status()).last_call_tokens, p.token_ids.length);
    }
    assertOk(await env.actor.end_session(p.session_id));
  });

  test('every generating call stayed below the 40 B update limit', (t) => {
    assert.ok(generatingCalls.length >= 8);
    const overheads = generatingCalls.map((c) => Number(BigInt(c.entry.instructions) - c.lastCall));
    t.diagnostic(`${generatingCalls.length} calls; log minus last_call_instructions: ${Math.min(...overheads)} to ${Math.max(...overheads)}`);
    for (const call of generatingCalls) {
      assert.ok(BigInt(call.entry.instructions) < BigInt(UPDATE_LIMIT), `${call.method}: ${call.entry.instructions}`);
    }
    // The whole replica log too: uploads, set-up and every turn call of this file.
    for (const m of env.replica.messages) {
      assert.ok(m.instructions < UPDATE_LIMIT, `${m.method}: ${m.instructions}`);
      if (m.kind === 'update') assert.notEqual(m.outcome, 'trap', `${m.method} trapped: ${m.error}`);
    }
  });
});
