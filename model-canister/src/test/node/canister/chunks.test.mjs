// Parallel uploads as ic-file-uploader --parallel sends them: put_*_chunk(id, bytes) with id × 2,000,000 = offset,
// in any order, duplicated, with gaps; missing_*_chunks and finish_*_upload; bounds; the files then set up and
// answer like the JVM reference.
//
//   node --test model-canister/src/test/node/canister/

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertErr, assertOk, hex, jvm, modelFiles, randomModel, setUp, sha256, upgradeModel,
} from './support.mjs';

const CHUNK = 2_000_000;
const chunk = (bytes, id) => bytes.subarray(id * CHUNK, Math.min(bytes.length, (id + 1) * CHUNK));
const count = (bytes) => Math.ceil(bytes.length / CHUNK);

let env;
let model;
let files;

before(async () => {
  model = randomModel();
  files = modelFiles(model);
  env = await setUp();
});

after(async () => {
  await env?.close();
});

const missing = async (file, bytes) => Array.from(await env.actor[`missing_${file}_chunks`](BigInt(bytes.length)), Number);
const finish = (file, bytes) => env.actor[`finish_${file}_upload`](BigInt(bytes.length));

test('chunks in any order, one sent twice (the second replaces the first), make the exact file', async () => {
  const bytes = files.safetensors;
  const n = count(bytes);
  assert.ok(n >= 5, `the test model's safetensors has ${n} chunks`);
  assert.deepEqual(await missing('safetensors', bytes), Array.from({ length: n }, (_, id) => id));
  const order = [n - 1, 2, 0, ...Array.from({ length: n - 3 }, (_, i) => i + 3).filter((id) => id !== n - 1), 1];
  const wrong = new Uint8Array(CHUNK).fill(7);
  await env.actor.put_safetensors_chunk(2, wrong); // replaced below
  for (const [i, id] of order.entries()) {
    await env.actor.put_safetensors_chunk(id, chunk(bytes, id));
    if (i === 1) assert.deepEqual(await missing('safetensors', bytes), Array.from({ length: n }, (_, k) => k).filter((k) => ![n - 1, 2].includes(k)));
  }
  await env.actor.put_safetensors_chunk(0, chunk(bytes, 0)); // a duplicate of the same bytes
  assert.deepEqual(await missing('safetensors', bytes), []);
  // Until finished, the sequential path refuses to mix in.
  await assert.rejects(env.actor.append_safetensors_bytes(new Uint8Array([1])), /parallel upload of safetensors is under way/);
  assertErr(await env.actor.store_safetensors_bytes_to_stable(), /finish_safetensors_upload/);

  const done = assertOk(await finish('safetensors', bytes), 'finish_safetensors_upload');
  assert.equal(done.done, true);
  assert.equal(done.hashed_bytes, BigInt(bytes.length));
  assert.equal(hex(done.sha256[0]), hex(sha256(bytes)));
  const status = await env.actor.status();
  assert.equal(status.safetensors_bytes, BigInt(bytes.length));
  assert.equal(hex(status.safetensors_sha256), hex(sha256(bytes)));
  // Finishing again is harmless; chunks of a finished file are refused (clear first).
  assert.equal(assertOk(await finish('safetensors', bytes)).done, true);
  await assert.rejects(env.actor.put_safetensors_chunk(0, chunk(bytes, 0)), /holds \d+ bytes already: clear_safetensors_bytes/);
});

test('config and tokenizer by chunks too; the original set-up sequence then answers like the JVM', async () => {
  for (const [file, bytes] of [['config', files.config], ['tokenizer', files.tokenizer]]) {
    for (let id = count(bytes) - 1; id >= 0; id--) await env.actor[`put_${file}_chunk`](id, chunk(bytes, id));
    assert.equal(assertOk(await finish(file, bytes)).done, true, file);
  }
  for (const step of ['store_safetensors_bytes_to_stable', 'load_safetensors_bytes_from_stable', 'setup_model',
    'store_tokenizer_bytes_to_stable', 'load_tokenizer_bytes_from_stable', 'setup_tokenizer']) {
    assertOk(await env.actor[step](), step);
  }
  const prompt = 'Hello there';
  assert.equal(assertOk(await env.actor.generate(prompt, 8, 0)), jvm(model, { prompt, maxNewTokens: 8 }).text);
});

test('missing chunks are named and block finishing; sending them and an upgrade in between complete the file', async () => {
  const bytes = files.tokenizer; // 2 chunks: the second short
  await env.actor.clear_tokenizer_bytes();
  await env.actor.put_tokenizer_chunk(1, chunk(bytes, 1));
  assert.deepEqual(await missing('tokenizer', bytes), [0]);
  assertErr(await finish('tokenizer', bytes), /tokenizer: 1 of 2 chunks missing or of the wrong length \(0\)/);
  await upgradeModel(env.agent, env.canisterId); // the chunk table lives in stable memory
  assert.deepEqual(await missing('tokenizer', bytes), [0]);
  await env.actor.put_tokenizer_chunk(0, chunk(bytes, 0));
  assert.equal(hex(assertOk(await finish('tokenizer', bytes)).sha256[0]), hex(sha256(bytes)));
});

test('every chunk but the last has 2,000,000 bytes: a short one elsewhere, or chunks past the end, are reported', async () => {
  const bytes = files.safetensors;
  const n = count(bytes);
  await env.actor.clear_safetensors_bytes();
  for (let id = 0; id < n; id++) await env.actor.put_safetensors_chunk(id, chunk(bytes, id));
  await env.actor.put_safetensors_chunk(1, chunk(bytes, 1).subarray(0, 1000)); // short, not last
  assert.deepEqual(await missing('safetensors', bytes), [1]);
  assertErr(await finish('safetensors', bytes), /1 of \d+ chunks missing or of the wrong length \(1\)/);
  await env.actor.put_safetensors_chunk(1, chunk(bytes, 1));
  await env.actor.put_safetensors_chunk(n, new Uint8Array(10)); // one chunk too many for this total
  assertErr(await finish('safetensors', bytes), new RegExp(`chunk ${n} lies beyond the ${n} chunks`));
  await env.actor.clear_safetensors_bytes();
  assert.deepEqual(await missing('safetensors', bytes), Array.from({ length: n }, (_, id) => id));
  assert.equal((await env.actor.status()).safetensors_bytes, 0n);
});

test('ids beyond the file\'s region, empty or oversized chunks and impossible totals are refused without a trace', async () => {
  const before = await env.actor.missing_config_chunks(10n);
  // config.json's region is 960 KiB: chunk 0 only, and at most that many bytes.
  await assert.rejects(env.actor.put_config_chunk(1, new Uint8Array(10)), /config chunk 1 lies beyond the file's region/);
  await assert.rejects(env.actor.put_config_chunk(0, new Uint8Array(983_041)), /config chunk 0 lies beyond the file's region/);
  await assert.rejects(env.actor.put_safetensors_chunk(0xffffffff, new Uint8Array(1)), /safetensors chunk 4294967295 lies beyond/);
  await assert.rejects(env.actor.put_safetensors_chunk(4279, new Uint8Array(1)), /lies beyond/);
  await assert.rejects(env.actor.put_tokenizer_chunk(0, new Uint8Array(0)), /a chunk holds 1 to 2000000 bytes, not 0/);
  await assert.rejects(env.actor.put_tokenizer_chunk(0, new Uint8Array(CHUNK + 1)), /a chunk holds 1 to 2000000 bytes, not 2000001/);
  await assert.rejects(env.actor.missing_safetensors_chunks(9_000_000_000n), /safetensors holds 1 to \d+ bytes, not 9000000000/);
  assertErr(await env.actor.finish_tokenizer_upload(0n), /tokenizer holds 1 to \d+ bytes, not 0/);
  assert.deepEqual(await env.actor.missing_config_chunks(10n), before);
});
