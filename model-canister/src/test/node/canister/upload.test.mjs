// Uploading a model by the original README's sequence, upgrades, and who may call the admin methods.
//
//   node --test model-canister/src/test/node/canister/

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  Principal, actorFor, appendFile, assertErr, assertOk, chunksOf, comparableStatus, fileLength, hex, modelFiles,
  newIdentity, randomModel, setUp, sha256, upgradeModel, uploadModel,
} from './support.mjs';

const PROMPT = 'What is the capital of France?';

let env;
let files;
let stranger; // an identity that is neither a controller nor authorized
let strangerActor;
let answerBeforeUpgrade;

/** Every admin method, called with a valid argument. */
const ADMIN_CALLS = [
  ['append_safetensors_bytes', (a) => a.append_safetensors_bytes(new Uint8Array([1, 2, 3]))],
  ['append_config_bytes', (a) => a.append_config_bytes(new TextEncoder().encode('{}'))],
  ['append_tokenizer_bytes', (a) => a.append_tokenizer_bytes(new TextEncoder().encode('{}'))],
  ['clear_safetensors_bytes', (a) => a.clear_safetensors_bytes()],
  ['clear_config_bytes', (a) => a.clear_config_bytes()],
  ['clear_tokenizer_bytes', (a) => a.clear_tokenizer_bytes()],
  ['store_safetensors_bytes_to_stable', (a) => a.store_safetensors_bytes_to_stable()],
  ['load_safetensors_bytes_from_stable', (a) => a.load_safetensors_bytes_from_stable()],
  ['store_tokenizer_bytes_to_stable', (a) => a.store_tokenizer_bytes_to_stable()],
  ['load_tokenizer_bytes_from_stable', (a) => a.load_tokenizer_bytes_from_stable()],
  ['setup_model', (a) => a.setup_model()],
  ['setup_tokenizer', (a) => a.setup_tokenizer()],
  ['add_authorized_principal', (a) => a.add_authorized_principal(Principal.fromText('2vxsx-fae'))],
  ['put_safetensors_chunk', (a) => a.put_safetensors_chunk(0, new Uint8Array([1, 2, 3]))],
  ['put_config_chunk', (a) => a.put_config_chunk(0, new TextEncoder().encode('{}'))],
  ['put_tokenizer_chunk', (a) => a.put_tokenizer_chunk(0, new TextEncoder().encode('{}'))],
  ['finish_safetensors_upload', (a) => a.finish_safetensors_upload(3n)],
  ['finish_config_upload', (a) => a.finish_config_upload(2n)],
  ['finish_tokenizer_upload', (a) => a.finish_tokenizer_upload(2n)],
];

/** Every admin method called by the stranger is rejected (the agent throws) and changes nothing. */
async function assertStrangerRejected() {
  const statusBefore = comparableStatus(await env.actor.status());
  for (const [method, call] of ADMIN_CALLS) {
    await assert.rejects(call(strangerActor), (e) => {
      // canister_inspect_message refuses the ingress message: IC0406 "Canister rejected the message".
      assert.match(String(e.message), /rejected the message|only controllers and authorized principals/, method);
      return true;
    }, `${method} by a stranger was not rejected`);
  }
  assert.deepEqual(comparableStatus(await env.actor.status()), statusBefore);
  assert.equal(await env.actor.is_principal_authorized(Principal.fromText('2vxsx-fae')), false);
}

before(async () => {
  files = modelFiles(randomModel());
  env = await setUp();
  stranger = newIdentity(42);
  strangerActor = await actorFor(env, stranger);
});

after(async () => {
  await env?.close();
});

test('a stranger is rejected by every admin method of an empty canister', async () => {
  const status = await env.actor.status();
  assert.equal(status.model_loaded, false);
  assert.equal(status.safetensors_bytes, 0n);
  await assertStrangerRejected();
});

test('the README upload sequence, three or more chunks per file, lands the exact files', async () => {
  const chunks = await uploadModel(env.actor, files);
  for (const [file, n] of Object.entries(chunks)) assert.ok(n >= 3, `${file} went in ${n} chunks`);

  for (const file of ['safetensors', 'config', 'tokenizer']) {
    assert.equal(await fileLength(env.actor, file), BigInt(files[file].length), `${file}_bytes_length`);
  }
  const status = await env.actor.status();
  assert.equal(status.safetensors_bytes, BigInt(files.safetensors.length));
  assert.equal(status.config_bytes, BigInt(files.config.length));
  assert.equal(status.tokenizer_bytes, BigInt(files.tokenizer.length));
  assert.equal(hex(status.safetensors_sha256), hex(sha256(files.safetensors)));
  assert.equal(hex(status.config_sha256), hex(sha256(files.config)));
  assert.equal(hex(status.tokenizer_sha256), hex(sha256(files.tokenizer)));
  assert.equal(status.model_loaded, true);
  assert.equal(status.tokenizer_loaded, true);
  assert.deepEqual(status.model[0], {
    n_layer: 2, n_head: 2, n_embd: 64, n_positions: 128, vocab_size: 50260,
    parameters: BigInt(50260 * 64 + 128 * 64 + 2 * (12 * 64 * 64 + 13 * 64) + 2 * 64),
  });
  assert.ok(status.setup_instructions > 0n);
  answerBeforeUpgrade = assertOk(await env.actor.generate(PROMPT, 16, 0), 'generate');
  assert.ok(answerBeforeUpgrade.length > 0);
});

test('a stranger is rejected by every admin method of a set-up canister', async () => {
  await assertStrangerRejected();
  // The model still answers as before.
  assert.equal(assertOk(await env.actor.generate(PROMPT, 16, 0)), answerBeforeUpgrade);
});

test('an upgrade with the same wasm keeps the files, the model and the tokenizer', async () => {
  const before = await env.actor.status();
  await upgradeModel(env.agent, env.canisterId, env.wasm);
  const after = await env.actor.status();
  for (const key of ['safetensors_bytes', 'config_bytes', 'tokenizer_bytes', 'model_loaded', 'tokenizer_loaded', 'model', 'max_sessions']) {
    assert.deepEqual(after[key], before[key], key);
  }
  for (const key of ['safetensors_sha256', 'config_sha256', 'tokenizer_sha256']) assert.equal(hex(after[key]), hex(before[key]), key);
  assert.equal(after.model_loaded, true);
  assert.equal(after.tokenizer_loaded, true);
  // post_upgrade set the model up again: its cost is reported (and was within the install limit).
  assert.ok(after.setup_instructions > 0n);
  const postUpgrade = env.replica.messages.findLast((m) => m.method === 'upgrade');
  assert.equal(postUpgrade.outcome, 'ok');
  assert.equal(assertOk(await env.actor.generate(PROMPT, 16, 0), 'generate after upgrade'), answerBeforeUpgrade);
  // Sessions live in the heap: they are gone, and say so.
  assert.equal(after.sessions, 0);
});

test('an authorized principal can upload; is_principal_authorized reports it', async () => {
  const me = stranger.getPrincipal();
  assert.equal(await env.actor.is_principal_authorized(me), false);
  assert.equal(await strangerActor.is_principal_authorized(env.controller.getPrincipal()), true, 'a controller is authorized');
  await env.actor.add_authorized_principal(me);
  assert.equal(await env.actor.is_principal_authorized(me), true);
  assert.equal(await strangerActor.is_principal_authorized(me), true);
  // Only controllers authorize: an authorized principal cannot authorize another one.
  const third = newIdentity(43).getPrincipal();
  await assert.rejects(strangerActor.add_authorized_principal(third), /only controllers|rejected/);
  assert.equal(await env.actor.is_principal_authorized(third), false);

  // The former stranger replaces config.json with the same bytes and sets the model up again.
  await strangerActor.clear_config_bytes();
  assert.equal(await strangerActor.config_bytes_length(), 0n);
  const n = await appendFile(strangerActor, 'config', files.config);
  assert.ok(n >= 3);
  assertOk(await strangerActor.setup_model(), 'setup_model by an authorized principal');
  const status = await env.actor.status();
  assert.equal(hex(status.config_sha256), hex(sha256(files.config)));
  assert.equal(assertOk(await env.actor.generate(PROMPT, 16, 0)), answerBeforeUpgrade);
  // The authorization survives an upgrade (it is kept in stable memory).
  await upgradeModel(env.agent, env.canisterId, env.wasm);
  assert.equal(await env.actor.is_principal_authorized(me), true);
});

test('an upgrade in the middle of an upload keeps the uploaded prefix and the model that was set up', async () => {
  const chunks = chunksOf(files.safetensors);
  assert.ok(chunks.length >= 3);
  const half = Math.floor(chunks.length / 2);
  await env.actor.clear_safetensors_bytes();
  for (const chunk of chunks.slice(0, half)) await env.actor.append_safetensors_bytes(chunk);
  const prefix = chunks.slice(0, half).reduce((n, c) => n + c.length, 0);
  assert.equal(await env.actor.safetensors_bytes_length(), BigInt(prefix));
  const before = await env.actor.status();

  await upgradeModel(env.agent, env.canisterId, env.wasm);

  assert.equal(await env.actor.safetensors_bytes_length(), BigInt(prefix));
  const during = await env.actor.status();
  assert.equal(hex(during.safetensors_sha256), hex(before.safetensors_sha256));
  assert.equal(hex(during.safetensors_sha256), hex(sha256(files.safetensors.subarray(0, prefix))));
  // post_upgrade reloads the model that was set up, not the half-uploaded weights staged since.
  assert.equal(during.model_loaded, true);
  assert.equal(during.tokenizer_loaded, true);
  assert.equal(assertOk(await env.actor.generate(PROMPT, 16, 0)), answerBeforeUpgrade);
  // setting the staged half up fails and changes nothing
  assertErr(await env.actor.setup_model(), /.+/);
  assert.equal(assertOk(await env.actor.generate(PROMPT, 16, 0)), answerBeforeUpgrade);

  for (const chunk of chunks.slice(half)) await env.actor.append_safetensors_bytes(chunk);
  assertOk(await env.actor.store_safetensors_bytes_to_stable());
  assertOk(await env.actor.load_safetensors_bytes_from_stable());
  assert.equal(await env.actor.safetensors_bytes_length(), BigInt(files.safetensors.length));
  assert.equal(hex((await env.actor.status()).safetensors_sha256), hex(sha256(files.safetensors)));
  assertOk(await env.actor.setup_model());
  assert.equal(assertOk(await env.actor.generate(PROMPT, 16, 0)), answerBeforeUpgrade);
});
