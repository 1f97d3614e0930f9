// The Wasm build steps refuse to go on without their inputs: the kernels must be generated with the pinned
// SHA-256, and assembling or merging a kernel file that is not there fails instead of leaving the kernels out.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import binaryen from 'binaryen';
import { PIN_PATH, sha256 } from '../../gen-kernels.mjs';

const scripts = new URL('../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'build-steps-'));
after(() => rmSync(work, { recursive: true, force: true }));

function node(script, ...args) {
  return spawnSync(process.execPath, [join(scripts, script), ...args], { encoding: 'utf8' });
}

test('gen-kernels writes kernels.wat when its SHA-256 is the pinned one', () => {
  const output = join(work, 'pinned', 'kernels.wat');
  const run = node('gen-kernels.mjs', `--output=${output}`, `--pinned-sha256=${PIN_PATH}`);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(`${sha256(readFileSync(output, 'utf8'))}  kernels.wat\n`, readFileSync(PIN_PATH, 'utf8'));
});

test('gen-kernels fails and writes nothing when the pinned SHA-256 differs', () => {
  const output = join(work, 'drifted', 'kernels.wat');
  const pin = join(work, 'other.sha256');
  const pinned = readFileSync(PIN_PATH, 'utf8');
  writeFileSync(pin, pinned.replace(/^./, (c) => (c === '0' ? '1' : '0')));
  const run = node('gen-kernels.mjs', `--output=${output}`, `--pinned-sha256=${pin}`);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /SHA-256 [0-9a-f]{64}, but .* pins [0-9a-f]{64}/);
  assert.ok(!existsSync(output));
});

test('assemble-wat fails when the kernel file is missing', () => {
  const output = join(work, 'missing.wasm');
  const run = node('build/assemble-wat.mjs', join(work, 'no-such-kernels.wat'), output);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /no-such-kernels\.wat not found/);
  assert.ok(!existsSync(output));
});

test('postprocess-wasm fails when a module to merge is missing', () => {
  const module = binaryen.parseText('(module (memory (export "memory") 1 2) (func (export "canister_init")))');
  const input = join(work, 'raw.wasm');
  writeFileSync(input, module.emitBinary());
  module.dispose();
  const did = join(work, 'service.did');
  writeFileSync(did, 'service : {}\n');
  const output = join(work, 'out.wasm');
  const missing = join(work, 'no-such-kernels.wasm');
  const run = node('build/postprocess-wasm.mjs', `--input=${input}`, `--candid=${did}`, `--output=${output}`,
    `--merge=kernels=${missing}`);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /no-such-kernels\.wasm not found: cannot merge module "kernels"/);
  assert.ok(!existsSync(output));

  const withoutMerge = node('build/postprocess-wasm.mjs', `--input=${input}`, `--candid=${did}`, `--output=${output}`);
  assert.equal(withoutMerge.status, 0, withoutMerge.stderr);
  assert.ok(existsSync(output));
});
