// The fleet of model canisters: names, finding a deployed fleet, and deploying and uploading to one on a local
// replica started in-process (each canister gets the model; a second run sends nothing).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { saveCanisterId } from '../lib/canister-ids.mjs';
import { deployLocalFleet, fleetNames, MAX_REPLICAS, resolveFleet } from '../lib/fleet.mjs';
import { createModelActor } from '../lib/model-canister.mjs';
import { uploadModelWithAgent } from '../lib/model-upload.mjs';
import { DFX_LOCAL_URL } from '../lib/network.mjs';
import { MODEL_WASM } from '../lib/paths.mjs';
import { replicaWithTinyModel } from './replica-fixture.mjs';

const IDS = ['lqy7q-dh777-77777-aaaaq-cai', 'ryjl3-tyaaa-aaaaa-aaaba-cai', 'rrkah-fqaaa-aaaaa-aaaaq-cai'];
const WASM = process.env.MODEL_WASM ?? MODEL_WASM;

test('a fleet of N is model, model_1, … model_<N-1>; one canister is plain model', () => {
  assert.deepEqual(fleetNames(1), ['model']);
  assert.deepEqual(fleetNames(3), ['model', 'model_1', 'model_2']);
  assert.equal(fleetNames(MAX_REPLICAS).length, MAX_REPLICAS);
  for (const bad of [0, -1, 1.5, MAX_REPLICAS + 1, Number.NaN]) assert.throws(() => fleetNames(bad), /replicas must be 1\.\./);
});

test('resolveFleet finds the fleet in the deployment records, up to the first gap', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-test-'));
  const stateDir = path.join(root, '.state');
  const lookup = { root, stateDir, env: { PATH: '' } };
  const network = { name: 'local', url: DFX_LOCAL_URL, mainnet: false, projectReplica: true };
  assert.throws(() => resolveFleet(network, lookup), /no canister 'model'/);
  saveCanisterId('model', IDS[0], stateDir);
  saveCanisterId('model_1', IDS[1], stateDir);
  saveCanisterId('model_3', IDS[2], stateDir); // after a gap: not part of the fleet
  assert.deepEqual(resolveFleet(network, lookup).map(({ name, canisterId }) => [name, canisterId]), [['model', IDS[0]], ['model_1', IDS[1]]]);
});

test('deploy a fleet of 2 on a local replica and upload the model to both; a re-run sends nothing', { timeout: 10 * 60_000 }, async (t) => {
  if (!fs.existsSync(WASM)) {
    t.skip(`${WASM} is missing (build it with mvn -B -q package -DskipTests)`);
    return;
  }
  const { work, modelDir, local, agent } = await replicaWithTinyModel(t, 'fleet-it-');
  const stateDir = path.join(work, 'state');
  const wasm = fs.readFileSync(WASM);
  const deploy = () => deployLocalFleet({ agent, url: local.url, wasm, replicas: 2, stateDir });

  const fleet = await deploy();
  assert.deepEqual(fleet.map(({ name, action }) => [name, action]), [['model', 'installed'], ['model_1', 'installed']]);
  assert.notEqual(fleet[0].canisterId, fleet[1].canisterId);
  // The names reach the page through the ic_env cookie.
  const names = await (await fetch(`${local.url}/_/names`)).json();
  assert.deepEqual(names, { model: fleet[0].canisterId, model_1: fleet[1].canisterId });
  assert.deepEqual((await deploy()).map(({ canisterId, action }) => [canisterId, action]), fleet.map(({ canisterId }) => [canisterId, 'unchanged']));

  const quiet = { log: () => {}, progress: () => ({ update() {}, finish() {} }) };
  for (const { canisterId } of fleet) {
    const { plans } = await uploadModelWithAgent({ agent, canisterId, dir: modelDir, ...quiet });
    assert.deepEqual(Object.values(plans).map((p) => p.action), ['upload', 'upload', 'upload']);
    const status = await (await createModelActor(agent, canisterId)).status();
    assert.ok(status.model_loaded && status.tokenizer_loaded, canisterId);
  }
  const updatesBefore = local.replica.messages.filter((m) => m.kind === 'update').length;
  for (const { canisterId } of fleet) {
    const { plans, calls } = await uploadModelWithAgent({ agent, canisterId, dir: modelDir, ...quiet });
    assert.deepEqual(Object.values(plans).map((p) => p.action), ['skip', 'skip', 'skip']);
    assert.deepEqual(calls, []);
  }
  assert.equal(local.replica.messages.filter((m) => m.kind === 'update').length, updatesBefore);
});
