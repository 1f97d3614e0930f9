import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { commandExists, resolveCanisterId, saveCanisterId } from '../lib/canister-ids.mjs';
import { DFX_LOCAL_URL, MAINNET_URL, resolveNetwork } from '../lib/network.mjs';
import { writeJson } from '../lib/paths.mjs';

const MODEL = 'lqy7q-dh777-77777-aaaaq-cai';
const OTHER = 'ryjl3-tyaaa-aaaaa-aaaba-cai';
const THIRD = 'rrkah-fqaaa-aaaaa-aaaaq-cai';

/** A project root with a state dir, and a PATH without dfx unless `fakeDfx` prints an id. */
function project({ fakeDfx } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'canister-ids-test-'));
  const bin = path.join(root, 'bin');
  fs.mkdirSync(bin);
  if (fakeDfx) {
    fs.writeFileSync(path.join(bin, 'dfx'), `#!/bin/sh\n[ "$*" = "canister id model --network local" ] && echo ${fakeDfx} && exit 0\nexit 1\n`, { mode: 0o755 });
  }
  return { root, stateDir: path.join(root, '.state'), env: { PATH: bin } };
}

const local = (projectReplica) => ({ name: 'local', url: DFX_LOCAL_URL, mainnet: false, projectReplica });

test('a principal is taken as given', () => {
  const { root, stateDir, env } = project();
  assert.deepEqual(resolveCanisterId(MODEL, local(false), { root, stateDir, env }), { canisterId: MODEL, source: 'as given' });
});

test('.state/canister_ids.json answers for the project replica only, before dfx\'s files', () => {
  const { root, stateDir, env } = project();
  saveCanisterId('model', MODEL, stateDir);
  writeJson(path.join(root, '.dfx', 'local', 'canister_ids.json'), { model: { local: OTHER } });
  assert.equal(resolveCanisterId('model', local(true), { root, stateDir, env }).canisterId, MODEL);
  assert.deepEqual(resolveCanisterId('model', local(false), { root, stateDir, env }), { canisterId: OTHER, source: '.dfx/local/canister_ids.json' });
});

test('canister_ids.json answers for the network named (dfx\'s mainnet ids)', () => {
  const { root, stateDir, env } = project();
  writeJson(path.join(root, 'canister_ids.json'), { model: { ic: THIRD } });
  const ic = resolveNetwork('ic', { env: {}, stateDir });
  assert.deepEqual(resolveCanisterId('model', ic, { root, stateDir, env }), { canisterId: THIRD, source: 'canister_ids.json' });
  assert.throws(() => resolveCanisterId('model', local(false), { root, stateDir, env }), /no canister 'model' known on network local/);
});

test('dfx canister id is asked last, when dfx is on PATH', () => {
  const { root, stateDir, env } = project({ fakeDfx: OTHER });
  assert.ok(commandExists('dfx', env));
  assert.deepEqual(resolveCanisterId('model', local(false), { root, stateDir, env }), { canisterId: OTHER, source: 'dfx canister id' });
  assert.throws(() => resolveCanisterId('frontend', local(false), { root, stateDir, env }), /deploy it first/);
});

test('saveCanisterId keeps the other entries of the file', () => {
  const { stateDir } = project();
  saveCanisterId('frontend', OTHER, stateDir);
  saveCanisterId('model', MODEL, stateDir);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(stateDir, 'canister_ids.json'), 'utf8')),
    { frontend: { local: OTHER }, model: { local: MODEL } });
});

test('networks: ic is mainnet; local is $IC_URL, else the project replica, else dfx\'s port; a URL as given', () => {
  const { stateDir } = project();
  assert.deepEqual(resolveNetwork('ic', { env: {}, stateDir }), { name: 'ic', url: MAINNET_URL, mainnet: true, projectReplica: false });
  assert.deepEqual(resolveNetwork('local', { env: {}, stateDir }), { name: 'local', url: DFX_LOCAL_URL, mainnet: false, projectReplica: false });
  writeJson(path.join(stateDir, 'replica.json'), { url: 'http://127.0.0.1:4950' });
  assert.deepEqual(resolveNetwork('local', { env: {}, stateDir }), { name: 'local', url: 'http://127.0.0.1:4950', mainnet: false, projectReplica: true });
  assert.equal(resolveNetwork('local', { env: { IC_URL: 'http://localhost:8000' }, stateDir }).url, 'http://localhost:8000');
  assert.deepEqual(resolveNetwork('http://127.0.0.1:4950/', { env: {}, stateDir }),
    { name: 'http://127.0.0.1:4950/', url: 'http://127.0.0.1:4950', mainnet: false, projectReplica: true });
  assert.equal(resolveNetwork('https://ic0.app', { env: {}, stateDir }).mainnet, true);
  assert.throws(() => resolveNetwork('staging', { env: {}, stateDir }), /unknown network 'staging'/);
});
