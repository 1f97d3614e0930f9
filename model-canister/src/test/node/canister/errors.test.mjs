// Every bad input gets its error and leaves the canister as it was.
//
// "As it was" is the whole status record before and after the failing call, minus heap_bytes: TeaVM's garbage
// collected heap moves with any allocation (decoding the argument, building the error text, a half-built model that
// failed validation), and a failed call is not expected to give that back. Everything else must be unchanged,
// including setup_instructions / last_call_instructions / last_call_tokens: a failed setup or a rejected generation
// is not a "last call" (ModelService checks all arguments before it starts counting).
//
//   node --test model-canister/src/test/node/canister/

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import {
  IDL, Principal, assertErr, assertOk, comparableStatus, hex, lastMessage, modelFiles, randomModel, replaceFile, setUp,
  sha256, turnRequest, uploadModel,
} from './support.mjs';

const PROMPT = 'Hello there';
/** Bad weights go up in as few calls as the 2 MiB ingress limit allows (the README sequence is tested elsewhere). */
const BIG_CHUNKS = { count: 1, maxChunk: 1900 * 1024 };

let env;
let files;
let answer;

/** Runs `call` (which must give an Err matching `pattern`) and checks the status did not change. */
async function rejectsCleanly(what, call, pattern) {
  const before = comparableStatus(await env.actor.status());
  const message = assertErr(await call(), pattern, what);
  assert.deepEqual(comparableStatus(await env.actor.status()), before, `${what} changed the status`);
  return message;
}

before(async () => {
  files = modelFiles(randomModel());
  env = await setUp();
});

after(async () => {
  await env?.close();
});

describe('before set-up', () => {
  test('every method says what is missing', async () => {
    const a = env.actor;
    const notLoaded = /model is not loaded/;
    const noTokenizer = /tokenizer is not loaded/;
    await rejectsCleanly('generate', () => a.generate(PROMPT, 4, 0), noTokenizer);
    await rejectsCleanly('inference', () => a.inference([1, 2, 3], 4, 0), notLoaded);
    await rejectsCleanly('tokenize', () => a.tokenize(PROMPT), noTokenizer);
    await rejectsCleanly('decode', () => a.decode([1, 2, 3]), noTokenizer);
    await rejectsCleanly('start_turn', () => a.start_turn(turnRequest({ prompt: PROMPT })), notLoaded);
    await rejectsCleanly('continue_turn', () => a.continue_turn(1n), notLoaded);
    await rejectsCleanly('end_session', () => a.end_session(1n), /unknown session/);
    await rejectsCleanly('setup_model', () => a.setup_model(), /no config\.json uploaded/);
    await rejectsCleanly('setup_tokenizer', () => a.setup_tokenizer(), /no tokenizer\.json uploaded/);
    for (const method of ['store_safetensors_bytes_to_stable', 'load_safetensors_bytes_from_stable']) {
      await rejectsCleanly(method, () => a[method](), /no safetensors bytes uploaded/);
    }
    for (const method of ['store_tokenizer_bytes_to_stable', 'load_tokenizer_bytes_from_stable']) {
      await rejectsCleanly(method, () => a[method](), /no tokenizer bytes uploaded/);
    }
    const status = await a.status();
    assert.equal(status.model_loaded, false);
    assert.equal(status.tokenizer_loaded, false);
    assert.deepEqual(status.model, []);
  });

  test('setup_model with a config but no weights says so', async () => {
    await replaceFile(env.actor, 'config', files.config);
    await rejectsCleanly('setup_model', () => env.actor.setup_model(), /no model\.safetensors uploaded/);
    await env.actor.clear_config_bytes();
  });
});

/** A safetensors file with `edit(header)` applied to its JSON header (data left as is, or cut with `dataEnd`). */
function editSafetensors(bytes, edit, dataEnd) {
  const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
  edit(header);
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const data = bytes.subarray(8 + n, dataEnd === undefined ? bytes.length : 8 + n + dataEnd);
  return Buffer.concat([length, json, data]);
}

function editConfig(edit) {
  const config = JSON.parse(files.config.toString('utf8'));
  edit(config);
  return Buffer.from(JSON.stringify(config), 'utf8');
}

describe('bad files', () => {
  before(async () => {
    await uploadModel(env.actor, files);
    answer = assertOk(await env.actor.generate(PROMPT, 12, 0));
  });

  /**
   * Uploads the bad file(s) and expects setup_model to fail with `pattern`. The good files are put back at the end
   * of each test (restoreGoodFiles), not after every case: uploading the weights is the slow part of this file.
   */
  async function badModel(what, { safetensors, config }, pattern) {
    if (safetensors) await replaceFile(env.actor, 'safetensors', safetensors, BIG_CHUNKS);
    if (config) await replaceFile(env.actor, 'config', config);
    const message = await rejectsCleanly(`setup_model with ${what}`, () => env.actor.setup_model(), pattern);
    // The model set up before keeps serving.
    assert.equal(assertOk(await env.actor.generate(PROMPT, 12, 0)), answer, `after ${what}`);
    return message;
  }

  afterEach(async () => {
    // Put back whichever file a test replaced (compared by digest: a no-op when it is already the good one).
    const status = await env.actor.status();
    for (const file of ['safetensors', 'config', 'tokenizer']) {
      if (hex(status[`${file}_sha256`]) !== hex(sha256(files[file]))) await replaceFile(env.actor, file, files[file], BIG_CHUNKS);
    }
  });

  test('a truncated safetensors file', async () => {
    await badModel('a truncated file', { safetensors: files.safetensors.subarray(0, Math.floor(files.safetensors.length * 0.6)) },
      /TRUNCATED/);
    await badModel('only a header length', { safetensors: files.safetensors.subarray(0, 5) }, /TRUNCATED 'header'/);
  });

  test('a corrupt safetensors header', async () => {
    const garbage = Buffer.from(files.safetensors);
    garbage.write('#!garbage{{{', 8, 'latin1');
    await badModel('a header that is not JSON', { safetensors: garbage }, /BAD_JSON|BAD_HEADER/);
    const huge = Buffer.from(files.safetensors);
    huge.writeBigUInt64LE(1n << 40n, 0);
    await badModel('a header length beyond the file', { safetensors: huge }, /BAD_HEADER_LENGTH|TRUNCATED/);
    const badDtype = editSafetensors(files.safetensors, (h) => { h['transformer.ln_f.weight'].dtype = 'Q4'; });
    await badModel('an unknown dtype', { safetensors: badDtype }, /UNSUPPORTED_DTYPE 'transformer\.ln_f\.weight'/);
  });

  test('tensor shapes that do not fit the config', async () => {
    await badModel('a config of 3 layers for a 2-layer file', { config: editConfig((c) => { c.n_layer = 3; }) },
      /MISSING_TENSOR '[^']*h\.2\./);
    await badModel('a config of 64 positions for a 128-position file', { config: editConfig((c) => { c.n_positions = 64; c.n_ctx = 64; }) },
      /WRONG_SHAPE '[^']*wpe\.weight'/);
    await badModel('a config of 32-wide embeddings for a 64-wide file', { config: editConfig((c) => { c.n_embd = 32; }) },
      /WRONG_SHAPE/);
  });

  test('a missing tensor', async () => {
    // The last tensor of the file (ln_f.bias), with its data cut off: an otherwise consistent file.
    const original = JSON.parse(files.safetensors.subarray(8, 8 + Number(files.safetensors.readBigUInt64LE(0))).toString('utf8'));
    const [lastName, lastEntry] = Object.entries(original).filter(([k]) => k !== '__metadata__')
      .sort((x, y) => y[1].data_offsets[1] - x[1].data_offsets[1])[0];
    const missing = editSafetensors(files.safetensors, (h) => { delete h[lastName]; }, lastEntry.data_offsets[0]);
    await badModel(`no ${lastName}`, { safetensors: missing }, new RegExp(`MISSING_TENSOR '[^']*${lastName.replace('transformer.', '').replaceAll('.', '\\.')}'`));
  });

  test('a malformed config.json', async () => {
    await badModel('config.json cut short', { config: files.config.subarray(0, 40) }, /BAD_CONFIG|BAD_JSON/);
    await badModel('config.json without n_layer', { config: editConfig((c) => { delete c.n_layer; }) }, /n_layer/);
    await badModel('config.json with heads that do not divide the embedding', { config: editConfig((c) => { c.n_head = 3; }) }, /n_head|BAD_CONFIG/);
  });

  test('a malformed tokenizer.json', async () => {
    const badTokenizers = [
      ['cut short', files.tokenizer.subarray(0, 100_000), /BAD_JSON|BAD_TOKENIZER/],
      ['not a tokenizer', Buffer.from('{"model": {"type": "BPE"}}'), /BAD_TOKENIZER|BAD_JSON/],
      ['not JSON', Buffer.from('\u0000\u0001 binary garbage'), /BAD_JSON|BAD_TOKENIZER/],
    ];
    for (const [what, bytes, pattern] of badTokenizers) {
      await replaceFile(env.actor, 'tokenizer', bytes, BIG_CHUNKS);
      await rejectsCleanly(`setup_tokenizer with a tokenizer.json ${what}`, () => env.actor.setup_tokenizer(), pattern);
      // The tokenizer set up before keeps serving.
      assert.equal((await env.actor.status()).tokenizer_loaded, true);
      assert.equal(assertOk(await env.actor.generate(PROMPT, 12, 0)), answer);
    }
    await replaceFile(env.actor, 'tokenizer', files.tokenizer, BIG_CHUNKS);
    assertOk(await env.actor.setup_tokenizer());
  });

  test('the good files set up again give the same answers', async () => {
    assertOk(await env.actor.setup_model());
    assert.equal(assertOk(await env.actor.generate(PROMPT, 12, 0)), answer);
  });
});

describe('bad arguments', () => {
  test('each gets its Err and changes nothing', async () => {
    const a = env.actor;
    const long = 'word '.repeat(200);
    const ids129 = Array.from({ length: 129 }, (_, i) => 100 + i);
    const cases = [
      ['inference with an id = vocab size', () => a.inference([15496, 50260], 4, 0), /token id 50260 is outside the vocabulary of 50260/],
      ['inference with an id of 2^32-1', () => a.inference([4294967295], 4, 0), /token id 4294967295 is outside/],
      ['decode with an id = vocab size', () => a.decode([15496, 50260]), /token id 50260 is outside the vocabulary/],
      ['start_turn with prompt_ids beyond the vocabulary', () => a.start_turn(turnRequest({ promptIds: [1, 99999] })), /token id 99999 is outside/],
      ['generate with an empty prompt', () => a.generate('', 4, 0), /prompt is empty/],
      ['inference with no ids', () => a.inference([], 4, 0), /empty/],
      ['start_turn with an empty prompt', () => a.start_turn(turnRequest({ prompt: '' })), /prompt is empty/],
      ['start_turn with empty prompt_ids', () => a.start_turn(turnRequest({ promptIds: [] })), /prompt_ids is empty/],
      ['generate with a prompt longer than the context', () => a.generate(long, 4, 0), /the context holds 128/],
      ['inference with a prompt longer than the context', () => a.inference(ids129, 4, 0), /has 129 tokens; the context holds 128/],
      ['start_turn with a prompt longer than the context', () => a.start_turn(turnRequest({ prompt: long })), /the context holds 128/],
      ['generate with a negative temperature', () => a.generate(PROMPT, 4, -0.5), /temperature must be between 0 and 2/],
      ['generate with a NaN temperature', () => a.generate(PROMPT, 4, NaN), /temperature must be between 0 and 2, got NaN/],
      ['generate with temperature > 2', () => a.generate(PROMPT, 4, 2.5), /temperature/],
      ['inference with a negative temperature', () => a.inference([1, 2], 4, -1), /temperature/],
      ['inference with a NaN temperature', () => a.inference([1, 2], 4, NaN), /temperature/],
      ['inference with an infinite temperature', () => a.inference([1, 2], 4, Infinity), /temperature/],
      ['start_turn with a NaN temperature', () => a.start_turn(turnRequest({ prompt: PROMPT, temperature: NaN })), /temperature/],
      ['start_turn with a negative temperature', () => a.start_turn(turnRequest({ prompt: PROMPT, temperature: -1 })), /temperature/],
      ['generate with n = 0', () => a.generate(PROMPT, 0, 0), /at least 1/],
      ['inference with n = 0', () => a.inference([1, 2], 0, 0), /at least 1/],
      ['start_turn with max_new_tokens = 0', () => a.start_turn(turnRequest({ prompt: PROMPT, maxNewTokens: 0 })), /max_new_tokens must be at least 1/],
      ['start_turn with top_p = 0', () => a.start_turn(turnRequest({ prompt: PROMPT, topP: 0 })), /top_p must be in \(0, 1\]/],
      ['start_turn with top_p > 1', () => a.start_turn(turnRequest({ prompt: PROMPT, topP: 1.5 })), /top_p must be in \(0, 1\]/],
      ['start_turn with a NaN top_p', () => a.start_turn(turnRequest({ prompt: PROMPT, topP: NaN })), /top_p/],
      ['start_turn in an unknown session', () => a.start_turn(turnRequest({ sessionId: 42n, prompt: PROMPT })), /unknown session 42/],
      ['continue_turn of an unknown session', () => a.continue_turn(42n), /unknown session 42/],
      ['end_session of an unknown session', () => a.end_session(42n), /unknown session 42/],
    ];
    // A failed call changes nothing, so the status after one case is the status before the next.
    const expected = comparableStatus(await a.status());
    for (const [what, call, pattern] of cases) {
      assertErr(await call(), pattern, what);
      assert.deepEqual(comparableStatus(await a.status()), expected, `${what} changed the status`);
    }
    // Nothing trapped: every one of them was an ordinary reply.
    for (const method of ['generate', 'inference', 'start_turn', 'continue_turn', 'end_session']) {
      assert.equal(lastMessage(env.replica, method, env.canisterId).outcome, 'reply', method);
    }
  });

  test('a follow-up that would overflow the context is refused and the session stays usable', async () => {
    const turn = assertOk(await env.actor.start_turn(turnRequest({ prompt: PROMPT, maxNewTokens: 4 })));
    assert.equal(turn.done, true);
    await rejectsCleanly('a follow-up too long', () => env.actor.start_turn(turnRequest({ sessionId: turn.session_id, prompt: 'word '.repeat(120) })),
      /the conversation would reach \d+ tokens/);
    const next = assertOk(await env.actor.start_turn(turnRequest({ sessionId: turn.session_id, prompt: 'Short one', maxNewTokens: 2 })));
    assert.equal(next.session_id, turn.session_id);
    assertOk(await env.actor.end_session(turn.session_id));
  });
});

describe('malformed Candid', () => {
  /** A raw update call: the agent throws the reject. */
  async function rawUpdate(methodName, arg) {
    return env.agent.update(env.canisterId, { methodName, arg, effectiveCanisterId: env.canisterId });
  }

  test('garbage and mistyped arguments are rejected with the decoder message', async () => {
    const before = comparableStatus(await env.actor.status());
    const garbage = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2, 3]);
    for (const method of ['generate', 'inference', 'start_turn', 'continue_turn', 'end_session']) {
      await assert.rejects(rawUpdate(method, garbage), /message does not start with DIDL/, method);
      assert.equal(lastMessage(env.replica, method, env.canisterId).outcome, 'trap');
    }
    // The controller's admin calls decode their argument too (strangers are stopped before, by inspect_message).
    await assert.rejects(rawUpdate('append_config_bytes', garbage), /does not start with DIDL/);
    await assert.rejects(rawUpdate('add_authorized_principal', garbage), /does not start with DIDL/);
    // Well-formed Candid of the wrong types.
    await assert.rejects(rawUpdate('generate', IDL.encode([IDL.Nat, IDL.Nat8, IDL.Float64], [5n, 4, 0])), /expected text but the message has/);
    await assert.rejects(rawUpdate('inference', IDL.encode([IDL.Vec(IDL.Nat32), IDL.Nat8], [[1, 2], 4])), /missing argument/);
    await assert.rejects(rawUpdate('continue_turn', IDL.encode([IDL.Text], ['1'])), /expected nat64/);
    // Trailing garbage after valid arguments.
    const valid = IDL.encode([IDL.Nat64], [1n]);
    await assert.rejects(rawUpdate('end_session', new Uint8Array([...valid, 0, 0, 0])), /trailing bytes/);
    // Queries: the agent returns the reject.
    for (const method of ['tokenize', 'decode', 'status', 'is_principal_authorized']) {
      const reply = await env.agent.query(env.canisterId, { methodName: method, arg: garbage });
      assert.equal(reply.status, 'rejected', method);
      assert.match(reply.reject_message, /does not start with DIDL/, method);
    }
    assert.deepEqual(comparableStatus(await env.actor.status()), before);
    assert.equal(await env.actor.is_principal_authorized(Principal.fromText('2vxsx-fae')), false);
  });

  test('after all the failures, valid calls still work', async () => {
    assert.equal(assertOk(await env.actor.generate(PROMPT, 12, 0)), answer);
    const { token_ids: ids } = assertOk(await env.actor.tokenize(PROMPT));
    assert.equal(assertOk(await env.actor.decode(ids)), PROMPT);
    const turn = assertOk(await env.actor.start_turn(turnRequest({ prompt: PROMPT, maxNewTokens: 12 })));
    assert.equal(turn.text, answer);
    assertOk(await env.actor.end_session(turn.session_id));
  });
});
