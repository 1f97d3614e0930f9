// The int8 weight option: setup_model_with_precision(Int8) quantizes the matrices at load; the canister's answers
// then equal the JVM engine's with --int8, status reports the precision, and an upgrade reloads the same way.
//
//   node --test model-canister/src/test/node/canister/

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertOk, jvm, lastMessage, modelFiles, randomModel, setUp, upgradeModel, uploadModel, withoutStop,
} from './support.mjs';

const PROMPT = 'Name three rivers.';
let env;
let model;

before(async () => {
  model = randomModel();
  env = await setUp();
  await uploadModel(env.actor, modelFiles(model));
});

after(async () => {
  await env?.close();
});

test('int8 weights give the JVM engine\'s int8 answer, and f32 is restored by setup_model', async () => {
  const f32Answer = assertOk(await env.actor.generate(PROMPT, 8, 0));
  const f32Cost = BigInt(lastMessage(env.replica, 'generate', env.canisterId).instructions);
  const f32Status = await env.actor.status();
  assert.deepEqual(f32Status.precision, [{ F32: null }]);
  // the int8 copy of the embedding that screens the f32 LM head: one byte per weight plus two floats per row
  const { vocab_size: vocab, n_embd: embd } = f32Status.model[0];
  assert.equal(f32Status.lm_head_screen_bytes, BigInt(vocab * embd + 8 * vocab));

  assertOk(await env.actor.setup_model_with_precision({ Int8: null }));
  assert.deepEqual((await env.actor.status()).precision, [{ Int8: null }]);
  assert.equal((await env.actor.status()).lm_head_screen_bytes, 0n);
  const int8Answer = assertOk(await env.actor.generate(PROMPT, 8, 0));
  const int8Cost = BigInt(lastMessage(env.replica, 'generate', env.canisterId).instructions);
  assert.equal(int8Answer, jvm(model, { prompt: PROMPT, maxNewTokens: 8, int8: true }).text);
  const ids = assertOk(await env.actor.inference([1, 2, 3, 4], 6, 0)).result;
  assert.deepEqual([...assertOk(ids)], withoutStop(jvm(model, { promptIds: [1, 2, 3, 4], maxNewTokens: 6, int8: true }).ids));
  assert.ok(int8Cost < f32Cost, `int8 generate cost ${int8Cost} instructions, f32 ${f32Cost}`);

  await upgradeModel(env.agent, env.canisterId);
  assert.deepEqual((await env.actor.status()).precision, [{ Int8: null }], 'post_upgrade reloads int8 weights');
  assert.equal(assertOk(await env.actor.generate(PROMPT, 8, 0)), int8Answer);

  assertOk(await env.actor.setup_model());
  assert.deepEqual((await env.actor.status()).precision, [{ F32: null }]);
  assert.equal(assertOk(await env.actor.generate(PROMPT, 8, 0)), f32Answer);
});
