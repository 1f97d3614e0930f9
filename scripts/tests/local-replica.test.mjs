// Deploys model-canister/target/model.wasm (or $MODEL_WASM) on a local replica started in-process and uploads a
// tiny random model through the scripts' uploader: resume, sha256 checks, idempotency, set-up, upgrade.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { deployCanister } from '../lib/deploy.mjs';
import { createModelActor, readLanded, unwrap } from '../lib/model-canister.mjs';
import { uploadModelWithAgent } from '../lib/model-upload.mjs';
import { MODEL_WASM } from '../lib/paths.mjs';
import { MAX_CHUNK_SIZE, UploadInterrupted } from '../lib/upload.mjs';
import { replicaWithTinyModel, TINY_SHAPE } from './replica-fixture.mjs';

const WASM = process.env.MODEL_WASM ?? MODEL_WASM;
const NEEDED_EXPORTS = [
  ...['safetensors', 'config', 'tokenizer'].flatMap((f) => [`canister_update append_${f}_bytes`, `canister_query ${f}_bytes_length`, `canister_update clear_${f}_bytes`]),
  'canister_query status', 'canister_query is_principal_authorized', 'canister_update setup_model', 'canister_update setup_tokenizer',
  'canister_update start_turn', 'canister_update continue_turn', 'canister_update end_session', 'canister_post_upgrade',
];

function whyNotRunnable() {
  if (!fs.existsSync(WASM)) return `${WASM} is missing (build it with mvn -B -q package -DskipTests)`;
  const exported = new Set(WebAssembly.Module.exports(new WebAssembly.Module(fs.readFileSync(WASM))).map((e) => e.name));
  const missing = NEEDED_EXPORTS.filter((name) => !exported.has(name));
  if (missing.length) return `${WASM} lacks ${missing.join(', ')} (the canister is not finished yet)`;
  if (spawnSync('python3', ['-c', 'import numpy']).status !== 0) return 'python3 with numpy is needed to generate the random model';
  return null;
}

const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
/** At least 3 chunks per file, so that resume and ordering are exercised on each. */
const chunkSize = (size) => Math.max(1, Math.min(MAX_CHUNK_SIZE, Math.ceil(size / 4)));
const quietProgress = () => ({ update() {}, finish() {} });

test('upload to the local replica: resume, sha256 checks, idempotency, set-up and upgrade', { timeout: 15 * 60_000 }, async (t) => {
  const reason = whyNotRunnable();
  if (reason) {
    t.skip(reason);
    return;
  }
  const { work, modelDir, local, agent } = await replicaWithTinyModel(t, 'upload-it-');
  const wasm = fs.readFileSync(WASM);
  const { canisterId, action } = await deployCanister({ agent, wasm });
  assert.equal(action, 'installed');
  const actor = await createModelActor(agent, canisterId);
  // The sequential appends, in small chunks; the parallel chunks have a subtest of their own.
  const upload = (options = {}) => uploadModelWithAgent({ agent, canisterId, dir: modelDir, mode: 'append', chunkSize, progress: quietProgress, log: () => {}, ...options });
  /** The messages the replica runs during `action`, by method name. */
  const messagesDuring = async (action) => {
    const before = local.replica.messages.length;
    const result = await action();
    const counts = {};
    for (const m of local.replica.messages.slice(before)) if (m.kind === 'update') counts[m.method] = (counts[m.method] ?? 0) + 1;
    return { result, counts };
  };
  const safetensorsChunk = chunkSize(fs.statSync(path.join(modelDir, 'model.safetensors')).size);

  await t.test('an interrupted upload resumes where it stopped, in ≥ 3 chunks per file, and sets the model up', async () => {
    const controller = new AbortController();
    const interruptAfterTwoChunks = ({ label }) => ({
      update: (done) => { if (label === 'model.safetensors' && done >= 2 * safetensorsChunk) controller.abort(); },
      finish() {},
    });
    await assert.rejects(upload({ signal: controller.signal, progress: interruptAfterTwoChunks }), UploadInterrupted);
    assert.equal((await readLanded(actor)).files.safetensors.bytes, 2 * safetensorsChunk);

    const { result, counts } = await messagesDuring(() => upload());
    assert.equal(result.plans.safetensors.action, 'resume');
    assert.equal(result.plans.safetensors.from, 2 * safetensorsChunk);
    assert.equal(counts.append_safetensors_bytes, Math.ceil(result.plans.safetensors.size / safetensorsChunk) - 2);
    assert.ok(counts.append_config_bytes >= 3 && counts.append_tokenizer_bytes >= 3, JSON.stringify(counts));
    assert.deepEqual(result.calls, ['store_safetensors_bytes_to_stable', 'load_safetensors_bytes_from_stable', 'setup_model',
      'store_tokenizer_bytes_to_stable', 'load_tokenizer_bytes_from_stable', 'setup_tokenizer']);
    const status = await actor.status();
    assert.ok(status.model_loaded && status.tokenizer_loaded);
    assert.equal(status.model[0].n_layer, TINY_SHAPE.layers);
    for (const file of ['model.safetensors', 'config.json', 'tokenizer.json']) {
      const key = { 'model.safetensors': 'safetensors', 'config.json': 'config', 'tokenizer.json': 'tokenizer' }[file];
      assert.equal(Buffer.from(status[`${key}_sha256`]).toString('hex'), sha256(path.join(modelDir, file)));
    }
  });

  await t.test('a re-run sends nothing and sets nothing up again', async () => {
    const { result, counts } = await messagesDuring(() => upload());
    assert.deepEqual(Object.values(result.plans).map((p) => p.action), ['skip', 'skip', 'skip']);
    assert.deepEqual(result.calls, []);
    assert.deepEqual(counts, {});
  });

  await t.test('a prefix on the canister that differs from the file is cleared and uploaded anew', async () => {
    const corruptDir = path.join(work, 'corrupt');
    fs.cpSync(modelDir, corruptDir, { recursive: true });
    const corruptFile = path.join(corruptDir, 'model.safetensors');
    const bytes = fs.readFileSync(corruptFile);
    bytes[100] ^= 0xff; // inside the first chunk (the header): an interrupted upload of it leaves a wrong prefix
    fs.writeFileSync(corruptFile, bytes);
    const controller = new AbortController();
    const interruptAfterOneChunk = ({ label }) => ({ update: (done) => { if (label === 'model.safetensors' && done > 0) controller.abort(); }, finish() {} });
    const { result: corrupt } = await messagesDuring(() => upload({ dir: corruptDir, signal: controller.signal, progress: interruptAfterOneChunk }).catch((e) => e));
    assert.ok(corrupt instanceof UploadInterrupted, String(corrupt));
    assert.equal((await readLanded(actor)).files.safetensors.bytes, safetensorsChunk);

    const { result, counts } = await messagesDuring(() => upload());
    assert.equal(result.plans.safetensors.action, 'restart');
    assert.match(result.plans.safetensors.reason, /differ from the file's \(sha256\)/);
    assert.equal(counts.clear_safetensors_bytes, 1);
    assert.equal((await readLanded(actor)).files.safetensors.sha256, sha256(path.join(modelDir, 'model.safetensors')));
    assert.ok(result.calls.includes('setup_model'));
  });

  await t.test('parallel chunks: an interrupted upload sends only the missing chunks when run again', async () => {
    await actor.clear_safetensors_bytes();
    const size = fs.statSync(path.join(modelDir, 'model.safetensors')).size;
    const chunks = Math.ceil(size / MAX_CHUNK_SIZE);
    const controller = new AbortController();
    const interruptAfterTwoChunks = ({ label }) => ({
      update: (done) => { if (label === 'model.safetensors' && done >= 2 * MAX_CHUNK_SIZE) controller.abort(); },
      finish() {},
    });
    const parallel = (options) => upload({ mode: 'chunks', concurrency: 2, ...options });
    await assert.rejects(parallel({ signal: controller.signal, progress: interruptAfterTwoChunks }), UploadInterrupted);
    const missing = (await actor.missing_safetensors_chunks(BigInt(size))).length;
    assert.ok(missing > 0 && missing <= chunks - 2, `${missing} of ${chunks} chunks missing`);

    const { result, counts } = await messagesDuring(() => parallel());
    assert.equal(counts.put_safetensors_chunk, missing);
    assert.equal(counts.finish_safetensors_upload, 1);
    assert.equal(counts.append_safetensors_bytes, undefined);
    assert.deepEqual(result.calls, ['store_safetensors_bytes_to_stable', 'load_safetensors_bytes_from_stable', 'setup_model']);
    assert.equal((await readLanded(actor)).files.safetensors.sha256, sha256(path.join(modelDir, 'model.safetensors')));
  });

  await t.test('the model set up by setup_model generates through the session API', async () => {
    const progress = unwrap(await actor.start_turn({
      session_id: [], prompt: '', prompt_ids: [Uint32Array.from([1, 2, 3])],
      settings: { max_new_tokens: 3, temperature: 0, top_k: 0, top_p: 1, seed: 0n, call_budget: [] },
    }), 'start_turn');
    assert.ok(progress.done);
    assert.ok(progress.generated_tokens >= 1 && progress.generated_tokens <= 3);
  });

  await t.test('an upgrade to the same module keeps the model (post_upgrade reloads it)', async () => {
    assert.equal((await deployCanister({ agent, wasm, canisterId })).action, 'unchanged');
    assert.equal((await deployCanister({ agent, wasm, canisterId, force: true })).action, 'upgraded');
    const status = await actor.status();
    assert.ok(status.model_loaded && status.tokenizer_loaded);
  });
});
