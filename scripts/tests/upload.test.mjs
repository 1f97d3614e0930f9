import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { installPlan, MAX_INLINE_MODULE_BYTES } from '../lib/deploy.mjs';
import { dfxErrOf, uploaderResumeArgs } from '../lib/dfx.mjs';
import { MODEL_FILES } from '../lib/model-canister.mjs';
import { agentUploader, chunkRanges, hashFile, MAX_CHUNK_SIZE, planUpload, UploadInterrupted } from '../lib/upload.mjs';

const sha = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

test('planUpload: upload, resume, skip, and restart on a longer or different prefix', () => {
  const plan = (landedBytes, landedSha256, prefixSha256 = 'p') => planUpload({ fileSize: 10, landedBytes, landedSha256, prefixSha256 });
  assert.deepEqual(plan(0, sha('')), { action: 'upload', from: 0, reason: 'not on the canister yet' });
  assert.equal(plan(4, 'p').action, 'resume');
  assert.equal(plan(4, 'p').from, 4);
  assert.equal(plan(10, 'p').action, 'skip');
  assert.match(plan(10, 'p').reason, /sha256 equal/);
  assert.deepEqual(plan(4, 'q'), { action: 'restart', from: 0, reason: 'the 4 bytes on the canister differ from the file\'s (sha256)' });
  assert.equal(plan(10, 'q').action, 'restart');
  assert.match(plan(11, 'p', null).reason, /holds 11 bytes, more than the file's 10/);
  // A canister that reports no digest: lengths decide, and the reason says so.
  assert.equal(plan(4, null).action, 'resume');
  assert.match(plan(10, null).reason, /length only/);
});

test('chunkRanges covers the rest of the file in chunks of at most the chunk size', () => {
  assert.deepEqual(chunkRanges(0, 10, 4), [[0, 4], [4, 8], [8, 10]]);
  assert.deepEqual(chunkRanges(8, 10, 4), [[8, 10]]);
  assert.deepEqual(chunkRanges(10, 10, 4), []);
  assert.equal(chunkRanges(0, 510_368_814, MAX_CHUNK_SIZE).length, 256);
  assert.throws(() => chunkRanges(0, 10, MAX_CHUNK_SIZE + 1), /chunk size must be/);
});

test('hashFile gives the digest of a prefix and of the whole file in one pass', async () => {
  const bytes = crypto.randomBytes(20 << 20); // spans several 8 MiB read blocks
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hash-test-')), 'f');
  fs.writeFileSync(file, bytes);
  for (const prefix of [0, 1, 8 << 20, (8 << 20) + 5, bytes.length]) {
    assert.deepEqual(await hashFile(file, prefix), { prefixSha256: sha(bytes.subarray(0, prefix)), fileSha256: sha(bytes) });
  }
  assert.equal((await hashFile(file, bytes.length + 1)).prefixSha256, null);
});

test('ic-file-uploader resumes with --offset in bytes (every version has it; --chunk-offset only 0.1.4)', () => {
  assert.deepEqual(uploaderResumeArgs(0), []);
  assert.deepEqual(uploaderResumeArgs(6_000_000), ['--offset', '6000000']);
  assert.deepEqual(uploaderResumeArgs(6_000_001), ['--offset', '6000001']);
});

test('dfxErrOf finds the Err of a Result in dfx output', () => {
  assert.equal(dfxErrOf('(variant { Ok })'), null);
  assert.equal(dfxErrOf('(\n  variant {\n    Err = "no config.json uploaded (\\"append_config_bytes\\")"\n  },\n)'), 'no config.json uploaded ("append_config_bytes")');
});

test('installPlan sends small modules as they are, gzips larger ones and chunks what gzip cannot shrink enough', () => {
  const small = new Uint8Array(1000);
  assert.equal(installPlan(small).kind, 'inline');
  const compressible = new Uint8Array(3 * 1024 * 1024);
  assert.equal(installPlan(compressible).kind, 'gzip');
  const random = crypto.randomBytes(MAX_INLINE_MODULE_BYTES + 1);
  assert.equal(installPlan(random).kind, 'chunked');
});

/** A canister that receives config.json appends; `failures` makes appends fail after (or before) they land. */
function fakeCanister({ failures = [] } = {}) {
  const stored = [];
  const transient = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  return {
    stored,
    appends: 0,
    async append_config_bytes(bytes) {
      this.appends++;
      const failure = failures.shift();
      if (failure === 'before') throw transient();
      stored.push(...bytes);
      if (failure === 'after') throw transient();
    },
    async config_bytes_length() {
      return BigInt(stored.length);
    },
  };
}

const quietProgress = () => ({ update() {}, finish() {} });
const config = MODEL_FILES.find((f) => f.key === 'config');

function tempFile(bytes) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'upload-test-')), 'config.json');
  fs.writeFileSync(file, bytes);
  return file;
}

test('the agent uploader appends in order, and after a failed append sends it again only if it did not land', async () => {
  const bytes = crypto.randomBytes(10);
  const canister = fakeCanister({ failures: [undefined, 'after', 'before'] });
  const uploader = agentUploader(canister, { chunkSize: () => 4, progress: quietProgress, retry: { baseDelayMs: 1, onRetry: () => {} } });
  await uploader.upload(config, tempFile(bytes), 0, bytes.length);
  assert.deepEqual(Buffer.from(canister.stored), bytes);
  assert.equal(canister.appends, 4); // chunk 2 landed despite its error; chunk 3 failed once before landing
});

test('the agent uploader resumes from a given byte and stops between chunks when signalled', async () => {
  const bytes = crypto.randomBytes(12);
  const canister = fakeCanister();
  canister.stored.push(...bytes.subarray(0, 4));
  const controller = new AbortController();
  const progress = () => ({ update: (done) => { if (done >= 8) controller.abort(); }, finish() {} });
  const uploader = agentUploader(canister, { chunkSize: () => 4, progress, signal: controller.signal });
  await assert.rejects(uploader.upload(config, tempFile(bytes), 4, bytes.length), UploadInterrupted);
  assert.deepEqual(Buffer.from(canister.stored), bytes.subarray(0, 8));
});

test('the agent uploader gives up on an unexpected length instead of appending twice', async () => {
  const bytes = crypto.randomBytes(8);
  const canister = fakeCanister({ failures: ['before'] });
  canister.config_bytes_length = async () => 99n;
  const uploader = agentUploader(canister, { chunkSize: () => 4, progress: quietProgress, retry: { baseDelayMs: 1, onRetry: () => {} } });
  await assert.rejects(uploader.upload(config, tempFile(bytes), 0, bytes.length), /holds 99 bytes while 0 were expected/);
});
