// The parallel uploader against a stand-in canister that keeps chunks in a Map: how many calls are in flight,
// that only missing chunks are sent, retries, clearing appended bytes, interruption. The canister's own handling of
// chunks (order, duplicates, gaps, SHA-256) is tested on model.wasm in model-canister/src/test/node/canister/.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MODEL_FILES } from '../lib/model-canister.mjs';
import { chunkCount, chunkUploader, MAX_CHUNK_SIZE, UploadInterrupted } from '../lib/upload.mjs';

const file = MODEL_FILES.find((f) => f.key === 'safetensors');
const quietProgress = () => ({ update() {}, finish() {} });
const quiet = { progress: quietProgress, log: () => {}, retry: { baseDelayMs: 1, onRetry: () => {} } };
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

function tempFile(bytes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chunk-upload-test-'));
  const file = path.join(dir, 'model.safetensors');
  fs.writeFileSync(file, bytes);
  return file;
}

/** Chunks by id; put takes a tick so calls overlap; finish answers "in progress" once before it is done. */
function fakeCanister({ failures = new Map() } = {}) {
  const canister = {
    chunks: new Map(),
    puts: [],
    clears: 0,
    inFlight: 0,
    maxInFlight: 0,
    finishCalls: 0,
    async put_safetensors_chunk(id, bytes) {
      canister.puts.push(id);
      canister.inFlight++;
      canister.maxInFlight = Math.max(canister.maxInFlight, canister.inFlight);
      await tick();
      canister.inFlight--;
      const failure = failures.get(id)?.shift();
      if (failure) throw failure;
      canister.chunks.set(id, Buffer.from(bytes));
    },
    async missing_safetensors_chunks(total) {
      return Array.from({ length: chunkCount(Number(total)) }, (_, id) => id).filter((id) => !canister.chunks.has(id));
    },
    async finish_safetensors_upload(total) {
      canister.finishCalls++;
      const bytes = Buffer.concat([...canister.chunks.keys()].sort((a, b) => a - b).map((id) => canister.chunks.get(id)));
      const done = canister.finishCalls > 1;
      return { Ok: { done, hashed_bytes: done ? total : total / 2n, total_bytes: total, sha256: done ? [crypto.createHash('sha256').update(bytes).digest()] : [] } };
    },
    async clear_safetensors_bytes() {
      canister.clears++;
      canister.chunks.clear();
    },
    assembled: () => Buffer.concat([...canister.chunks.keys()].sort((a, b) => a - b).map((id) => canister.chunks.get(id))),
  };
  return canister;
}

const transient = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

test('chunks go out with the requested number of calls in flight, then finish is called until done', async () => {
  const bytes = crypto.randomBytes(5 * MAX_CHUNK_SIZE + 123);
  for (const concurrency of [1, 4]) {
    const canister = fakeCanister();
    await chunkUploader(canister, { ...quiet, concurrency }).upload(file, tempFile(bytes), 0, bytes.length);
    assert.ok(canister.assembled().equals(bytes));
    assert.deepEqual([...canister.puts].sort(), [0, 1, 2, 3, 4, 5]);
    assert.equal(canister.maxInFlight, concurrency, `at most ${concurrency} in flight`);
    assert.equal(canister.finishCalls, 2);
  }
});

test('a resumed upload sends only the chunks the canister lacks; bytes appended before are cleared first', async () => {
  const bytes = crypto.randomBytes(4 * MAX_CHUNK_SIZE);
  const resumed = fakeCanister();
  for (const id of [0, 2]) resumed.chunks.set(id, bytes.subarray(id * MAX_CHUNK_SIZE, (id + 1) * MAX_CHUNK_SIZE));
  await chunkUploader(resumed, quiet).upload(file, tempFile(bytes), 0, bytes.length);
  assert.deepEqual([...resumed.puts].sort(), [1, 3]);
  assert.equal(resumed.clears, 0);
  assert.ok(resumed.assembled().equals(bytes));

  const appended = fakeCanister(); // reports every chunk missing while it holds appended bytes
  await chunkUploader(appended, quiet).upload(file, tempFile(bytes), 3_000_000, bytes.length);
  assert.equal(appended.clears, 1);
  assert.equal(appended.puts.length, 4);
});

test('a transient failure is retried; a lasting one stops the upload and names the chunk', async () => {
  const bytes = crypto.randomBytes(3 * MAX_CHUNK_SIZE);
  const flaky = fakeCanister({ failures: new Map([[1, [transient(), transient()]]]) });
  await chunkUploader(flaky, quiet).upload(file, tempFile(bytes), 0, bytes.length);
  assert.ok(flaky.assembled().equals(bytes));
  assert.equal(flaky.puts.filter((id) => id === 1).length, 3);

  const broken = fakeCanister({ failures: new Map([[2, [new Error('Canister trapped: chunk 2 lies beyond the file')]]]) });
  await assert.rejects(chunkUploader(broken, quiet).upload(file, tempFile(bytes), 0, bytes.length), /put_safetensors_chunk\(2\) failed: .*lies beyond/);
  assert.equal(broken.finishCalls, 0);
});

test('an interrupted upload stops sending new chunks and says how to resume', async () => {
  const bytes = crypto.randomBytes(6 * MAX_CHUNK_SIZE);
  const canister = fakeCanister();
  const controller = new AbortController();
  const progress = () => ({ update: (done) => { if (done >= 2 * MAX_CHUNK_SIZE) controller.abort(); }, finish() {} });
  await assert.rejects(chunkUploader(canister, { ...quiet, progress, concurrency: 2, signal: controller.signal })
    .upload(file, tempFile(bytes), 0, bytes.length), UploadInterrupted);
  assert.ok(canister.chunks.size >= 2 && canister.chunks.size < 6, `${canister.chunks.size} chunks landed`);
  assert.equal(canister.finishCalls, 0);
});

test('concurrency must be a positive integer', () => {
  assert.throws(() => chunkUploader(fakeCanister(), { concurrency: 0 }), /positive integer/);
});
