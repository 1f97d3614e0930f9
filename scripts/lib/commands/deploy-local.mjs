// scripts/deploy-local: creates (first time) or upgrades the model canister (or a fleet of them) on the project's
// local replica.

import fs from 'node:fs';
import path from 'node:path';
import { parseFlags, positiveInteger } from '../cli.mjs';
import { deployLocal } from '../deploy.mjs';
import { deployLocalFleet } from '../fleet.mjs';
import { loadProjectIdentity } from '../identity.mjs';
import { createAgent, resolveNetwork } from '../network.mjs';
import { MODEL_WASM } from '../paths.mjs';

const USAGE = `usage: scripts/deploy-local [--wasm model-canister/target/model.wasm] [--name model | --replicas N] [--force]

Installs the module on the project's local replica (started by scripts/dev; $IC_URL overrides its URL):
creates the canister the first time (the project identity, .state/identity.json, is its controller), upgrades it
when the module changed (--force: even when it did not), saves its id in .state/canister_ids.json and registers
the name for the ic_env cookie of the served pages. --replicas N deploys a fleet of N canisters named model,
model_1, …, model_<N-1> (then scripts/upload-model puts the model on each).`;

export async function main(argv) {
  const { values } = parseFlags(argv, {
    usage: USAGE,
    options: {
      wasm: { type: 'string', default: MODEL_WASM },
      name: { type: 'string', default: 'model' },
      replicas: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  const replicas = values.replicas === undefined ? null : positiveInteger(values.replicas, '--replicas');
  if (replicas !== null && values.name !== 'model') throw new Error(`--name and --replicas exclude each other\n${USAGE}`);
  const network = resolveNetwork('local');
  if (!network.projectReplica && !process.env.IC_URL) {
    throw new Error('the project\'s local replica is not running (no .state/replica.json): start it with scripts/dev, or set IC_URL');
  }
  const wasmPath = path.resolve(values.wasm);
  if (!fs.existsSync(wasmPath)) throw new Error(`${wasmPath} does not exist: build it (mvn -B -q package -DskipTests)`);
  const agent = await createAgent(network, loadProjectIdentity());
  const wasm = fs.readFileSync(wasmPath);
  const report = ({ name, canisterId, action, transfer }) => {
    process.stderr.write(`${name}: ${canisterId} ${action}${transfer ? ` (module sent ${transfer})` : ''} on ${network.url}\n`);
  };
  const options = { agent, url: network.url, wasm, force: values.force };
  if (replicas !== null) await deployLocalFleet({ ...options, replicas, onDeployed: report });
  else report({ name: values.name, ...await deployLocal({ ...options, name: values.name }) });
}
