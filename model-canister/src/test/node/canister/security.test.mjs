// The attacks of issue 11, each as it was run against the canister, through the official agent: memory, cycles,
// sessions, ids, upgrades, vocabularies, sampling and who may call what (docs/security.md). The local replica's own
// hostile-input tests are in local-replica/test/hostile.test.mjs.
//
//   node --test model-canister/src/test/node/canister/security.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AnonymousIdentity } from '@icp-sdk/core/agent';
import {
  B, actorFor, appendFile, assertErr, assertOk, clearFile, deployModel, modelActor, modelFiles, newAgent, newIdentity,
  randomModel, setUp, turnRequest, upgradeModel, uploadModel,
} from './support.mjs';

const PROMPT = 'Hello there';
const DEFAULTS = {
  allow_anonymous: false,
  allowlist_only: false,
  per_caller_instructions_per_hour: 200_000_000_000n,
  total_instructions_per_hour: 2_000_000_000_000n,
  max_sessions_per_caller: 2,
};

let env;
let files;
let greedy;

before(async () => {
  files = modelFiles(randomModel());
  env = await setUp();
  await uploadModel(env.actor, files);
  greedy = assertOk(await env.actor.generate(PROMPT, 12, 0));
});

after(async () => {
  await env?.close();
});

/** The outcome of a call that may be refused by inspect_message (the agent throws) or answered Err. */
async function outcome(call) {
  try {
    const result = await call();
    return 'Ok' in result ? { ok: result.Ok } : { err: result.Err };
  } catch (e) {
    return { err: e.message };
  }
}

async function setPolicy(changes) {
  assertOk(await env.actor.set_usage_policy({ ...DEFAULTS, ...changes }), 'set_usage_policy');
}

describe('defaults', () => {
  test('the policy after install is the issue\'s, and survives an upgrade once set', async () => {
    assert.deepEqual(await env.actor.get_usage_policy(), DEFAULTS);
    const custom = { ...DEFAULTS, per_caller_instructions_per_hour: 123_456_789_000n, max_sessions_per_caller: 3 };
    assertOk(await env.actor.set_usage_policy(custom));
    await upgradeModel(env.agent, env.canisterId, env.wasm);
    assert.deepEqual(await env.actor.get_usage_policy(), custom);
    await setPolicy({});
    assert.deepEqual(await env.actor.get_usage_policy(), DEFAULTS);
  });

  test('only controllers set the policy and authorize; authorizations can be revoked', async () => {
    const stranger = await actorFor(env, newIdentity(70));
    await assert.rejects(stranger.set_usage_policy({ ...DEFAULTS, allow_anonymous: true }));
    assert.deepEqual(await env.actor.get_usage_policy(), DEFAULTS);
    const me = newIdentity(70).getPrincipal();
    await env.actor.add_authorized_principal(me);
    assert.equal(await env.actor.is_principal_authorized(me), true);
    await assert.rejects(stranger.add_authorized_principal(newIdentity(71).getPrincipal()), /only controllers|rejected/);
    await assert.rejects(stranger.set_usage_policy({ ...DEFAULTS, allow_anonymous: true }));
    assertOk(await env.actor.remove_authorized_principal(me));
    assert.equal(await env.actor.is_principal_authorized(me), false);
    assertErr(await env.actor.remove_authorized_principal(me), /not an authorized principal/);
    // values that cannot be a policy
    assertErr(await env.actor.set_usage_policy({ ...DEFAULTS, max_sessions_per_caller: 1000 }), /max_sessions_per_caller/);
    assertErr(await env.actor.set_usage_policy({ ...DEFAULTS, total_instructions_per_hour: 2n ** 64n - 1n }), /below 2\^63/);
  });
});

describe('memory', () => {
  test('200 distinct oversize prompts are refused; set-up and a new user\'s turn still work', async () => {
    const stranger = await actorFor(env, newIdentity(60));
    const heapBefore = (await env.actor.status()).heap_bytes;
    const started = Date.now();
    const word = 'w'.repeat(1_900_000);
    for (let batch = 0; batch < 200; batch += 8) {
      // one distinct 1.9 MB word each, 8 in flight
      const refusals = await Promise.all(Array.from({ length: 8 }, (_, i) => outcome(() => stranger.generate(`${word}${batch + i}`, 4, 0))));
      for (const { err } of refusals) assert.match(err, /a prompt cannot need more than|the prompt is too long/, `batch ${batch}`);
    }
    // Prompts that pass inspect_message's bound but not the tokenizer's: refused before the context is built.
    for (let i = 0; i < 20; i++) {
      assertErr(await stranger.generate(`${'q'.repeat(16_000)}${i}`, 4, 0), /the prompt is too long/);
    }
    const heapAfter = (await env.actor.status()).heap_bytes;
    assert.ok(heapAfter - heapBefore < 32n << 20n, `the heap grew by ${heapAfter - heapBefore} bytes`);
    assertOk(await env.actor.setup_model(), 'setup_model after the attack');
    const newcomer = await actorFor(env, newIdentity(61));
    const turn = assertOk(await newcomer.start_turn(turnRequest({ prompt: PROMPT, maxNewTokens: 12 })));
    assert.equal(turn.text, greedy);
    assertOk(await newcomer.end_session(turn.session_id));
    console.log(`# 220 oversize prompts in ${Date.now() - started} ms; heap ${heapBefore} -> ${heapAfter}`);
  });
});

describe('cycles', () => {
  test('one stranger\'s full-budget calls are refused for quota while another principal still generates', async () => {
    await setPolicy({ per_caller_instructions_per_hour: 3n * BigInt(B) });
    const attacker = await actorFor(env, newIdentity(62));
    let calls = 0;
    let refusal;
    while (!refusal) {
      // the largest turn a caller can ask for: 2^32-1 tokens, 36 B instructions
      const result = await outcome(() => attacker.start_turn(turnRequest({ prompt: PROMPT, maxNewTokens: 2 ** 32 - 1 })));
      if (result.err) refusal = result.err;
      else {
        calls++;
        assertOk(await attacker.end_session(result.ok.session_id));
      }
      assert.ok(calls < 100, 'never refused');
    }
    assert.match(refusal, /quota: you have used your 3000000000 instructions for this hour; it frees up at \d\d:00 UTC/);
    const spent = await attacker.usage();
    assert.ok(spent.caller_instructions_this_hour <= 3n * BigInt(B), `spent ${spent.caller_instructions_this_hour}`);
    assert.ok(spent.caller_instructions_this_hour > 2n * BigInt(B), `spent ${spent.caller_instructions_this_hour}`);
    assert.equal(spent.hour_ends_at % 3_600_000_000_000n, 0n);
    const other = await actorFor(env, newIdentity(63));
    assert.equal(assertOk(await other.generate(PROMPT, 12, 0)), greedy);
    console.log(`# ${calls} turns before the quota; spent ${spent.caller_instructions_this_hour}`);
    await setPolicy({});
  });

  test('the total cap refuses everyone, controllers included, until the hour turns', async () => {
    const { total_instructions_this_hour: already } = await env.actor.usage();
    await setPolicy({ total_instructions_per_hour: already + 2n * BigInt(B) });
    for (let seed = 64; ; seed++) {
      const caller = await actorFor(env, newIdentity(seed));
      const result = await outcome(() => caller.generate(PROMPT, 255, 0));
      if (result.err) {
        assert.match(result.err, /quota: the canister has used its \d+ instructions for this hour/);
        break;
      }
      assert.ok(seed < 100, 'the total never ran out');
    }
    assert.match((await outcome(() => env.actor.generate(PROMPT, 4, 0))).err, /quota: the canister has used/);
    // The hour turns: the clock the canisters see moves on (the HTTP layer's stays, so the agent's expiry holds).
    const clock = env.replica.env;
    const realNow = clock.now;
    clock.now = () => realNow() + 3_600_000_000_000n;
    try {
      const next = await outcome(() => env.actor.generate(PROMPT, 12, 0));
      assert.equal(next.ok, greedy, JSON.stringify(next));
      assert.equal(assertOk(await (await actorFor(env, newIdentity(64))).generate(PROMPT, 12, 0)), greedy);
    } finally {
      clock.now = realNow;
    }
    await setPolicy({});
  });
});

describe('sessions', () => {
  test('one caller opening 20 sessions evicts none of another caller\'s', async () => {
    const victim = await actorFor(env, newIdentity(80));
    const attacker = await actorFor(env, newIdentity(81));
    const victims = [];
    for (let i = 0; i < 2; i++) victims.push(assertOk(await victim.start_turn(turnRequest({ prompt: PROMPT, maxNewTokens: 2 }))).session_id);
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push(assertOk(await attacker.start_turn(turnRequest({ prompt: PROMPT, maxNewTokens: 1 }))).session_id);
    assert.equal(new Set(ids).size, 20);
    for (const id of victims) {
      assertOk(await victim.start_turn(turnRequest({ sessionId: id, prompt: 'And then?', maxNewTokens: 2 })), 'the victim continues');
    }
    // the attacker kept its last two
    for (const id of ids.slice(0, 18)) assertErr(await attacker.end_session(id), /unknown session/);
    for (const id of ids.slice(18)) assertOk(await attacker.end_session(id));
    for (const id of victims) assertOk(await victim.end_session(id));
  });

  test('ids predicted from a caller\'s own ids are not the next ones, and others\' sessions are out of reach', async () => {
    const attacker = await actorFor(env, newIdentity(82));
    const victim = await actorFor(env, newIdentity(83));
    const own = [];
    for (let i = 0; i < 2; i++) own.push(assertOk(await attacker.start_turn(turnRequest({ prompt: PROMPT, maxNewTokens: 1 }))).session_id);
    const theirs = assertOk(await victim.start_turn(turnRequest({ prompt: PROMPT, maxNewTokens: 1 }))).session_id;
    // splitmix64 recovered from the last id of one's own, stepped once or more
    const predicted = new Set();
    for (const top of [0n, 1n << 63n]) {
      let state = unmix(own[1] | top);
      for (let step = 0; step < 4; step++) predicted.add(mix((state += GAMMA) & MASK) & (MASK >> 1n));
    }
    assert.equal(predicted.has(theirs), false);
    assertErr(await attacker.continue_turn(theirs), /unknown session/);
    assertErr(await attacker.end_session(theirs), /unknown session/);
    assertErr(await attacker.start_turn(turnRequest({ sessionId: theirs, prompt: 'mine now' })), /unknown session/);
    assertOk(await victim.end_session(theirs));
    for (const id of own) assertOk(await attacker.end_session(id));
  });

  test('anonymous callers: refused by default; when allowed, one-shot calls only', async () => {
    const anonymous = modelActor(await newAgent(env.url, new AnonymousIdentity()), env.canisterId);
    assert.match((await outcome(() => anonymous.generate(PROMPT, 4, 0))).err, /anonymous callers may not generate/);
    assert.match((await outcome(() => anonymous.inference([1, 2], 4, 0))).err, /anonymous callers may not generate/);
    await setPolicy({ allow_anonymous: true });
    assert.equal(assertOk(await anonymous.generate(PROMPT, 12, 0)), greedy);
    assertErr(await anonymous.start_turn(turnRequest({ prompt: PROMPT })), /anonymous callers get no sessions/);
    await setPolicy({ allowlist_only: true });
    const listed = await actorFor(env, newIdentity(84));
    assert.match((await outcome(() => listed.generate(PROMPT, 4, 0))).err, /allowlist_only/);
    assert.equal(assertOk(await env.actor.generate(PROMPT, 12, 0)), greedy, 'controllers are on the allowlist');
    await setPolicy({});
  });
});

describe('set-up', () => {
  test('a model vocabulary larger than the tokenizer\'s (50300) is refused, in either order, and nothing traps', async () => {
    const big = modelFiles(randomModel({ vocab: 50300 }));
    const canisterId = await deployModel(env.agent, env.wasm);
    const actor = modelActor(env.agent, canisterId);
    await appendFile(actor, 'safetensors', big.safetensors, { count: 1, maxChunk: 1900 * 1024 });
    await appendFile(actor, 'config', big.config);
    await appendFile(actor, 'tokenizer', big.tokenizer, { count: 1, maxChunk: 1900 * 1024 });
    assertOk(await actor.setup_tokenizer());
    assertErr(await actor.setup_model(), /the model has 50300 token ids, but the tokenizer has 50260/);
    assertErr(await actor.generate(PROMPT, 4, 0), /model is not loaded/);
    // the other order: the model first
    const second = modelActor(env.agent, await deployModel(env.agent, env.wasm));
    await appendFile(second, 'safetensors', big.safetensors, { count: 1, maxChunk: 1900 * 1024 });
    await appendFile(second, 'config', big.config);
    await appendFile(second, 'tokenizer', big.tokenizer, { count: 1, maxChunk: 1900 * 1024 });
    assertOk(await second.setup_model());
    assertErr(await second.setup_tokenizer(), /the model has 50300 token ids/);
    assertErr(await second.generate(PROMPT, 4, 0), /tokenizer is not loaded/);
  });

  test('a config too large for the heap and a 400,000-deep one are Err, not traps', async () => {
    const canisterId = await deployModel(env.agent, env.wasm);
    const actor = modelActor(env.agent, canisterId);
    await appendFile(actor, 'safetensors', files.safetensors, { count: 1, maxChunk: 1900 * 1024 });
    const huge = JSON.parse(files.config.toString());
    Object.assign(huge, { n_embd: 8192, n_head: 64 });
    await appendFile(actor, 'config', Buffer.from(JSON.stringify(huge)));
    assertErr(await actor.setup_model(), /needs \d+ MiB of heap to load/);
    await clearFile(actor, 'config');
    await appendFile(actor, 'config', Buffer.from(`{"x": ${'['.repeat(400_000)}${']'.repeat(400_000)}}`), { count: 1, maxChunk: 1900 * 1024 });
    assertErr(await actor.setup_model(), /nested deeper than 64/);
    await upgradeModel(env.agent, canisterId, env.wasm); // staged, never set-up bytes do not make it trap
    assert.equal((await actor.status()).model_loaded, false);
  });
});

describe('sampling', () => {
  test('f64 parameters are checked as f32: no trap, no NaN', async () => {
    const a = env.actor;
    assertErr(await a.start_turn(turnRequest({ prompt: PROMPT, temperature: 1, topP: 1e-46 })), /top_p must be in \(0, 1\] as a 32-bit float/);
    for (const temperature of [1e-44, 1e-46, 1e-5]) {
      assert.equal(assertOk(await a.generate(PROMPT, 12, temperature)), greedy, `temperature ${temperature} is greedy`);
      const turn = assertOk(await a.start_turn(turnRequest({ prompt: PROMPT, maxNewTokens: 12, temperature, topK: 5, topP: 0.5 })));
      assert.equal(turn.text, greedy);
      assertOk(await a.end_session(turn.session_id));
    }
    const tiny = assertOk(await a.start_turn(turnRequest({ prompt: PROMPT, maxNewTokens: 12, temperature: 1.3, topP: 1e-40, seed: 5n })));
    assert.equal(tiny.text, greedy, 'a nucleus of one token is the argmax');
    assertOk(await a.end_session(tiny.session_id));
  });
});

const GAMMA = 0x9E3779B97F4A7C15n;
const MASK = (1n << 64n) - 1n;

function mix(z) {
  z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & MASK;
  z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & MASK;
  return z ^ (z >> 31n);
}

function unmix(z) {
  z = ((z ^ (z >> 31n) ^ (z >> 62n)) * 0x319642B2D24D8EC3n) & MASK;
  z = ((z ^ (z >> 27n) ^ (z >> 54n)) * 0x96DE1B173F119089n) & MASK;
  return z ^ (z >> 30n) ^ (z >> 60n);
}
