// scripts/deploy-local: creates (first time) or upgrades the model canister on the project's local replica.

import fs from 'node:fs';
import path from 'node:path';
import { parseFlags } from '../cli.mjs';
import { deployLocal } from '../deploy.mjs';
import { loadProjectIdentity } from '../identity.mjs';
import { createAgent, resolveNetwork } from '../network.mjs';
import { MODEL_WASM } from '../paths.mjs';

const USAGE = `usage: scripts/deploy-local [--wasm model-canister/target/model.wasm] [--name model] [--force]

Installs the module on the project's local replica (started by scripts/dev; $IC_URL overrides its URL):
creates the canister the first time (the project identity, .state/identity.json, is its controller), upgrades it
when the module changed (--force: even when it did not), saves its id in .state/canister_ids.json and registers
the name for the ic_env cookie of the served pages.`;

export async function main(argv) {
  const { values } = parseFlags(argv, {
    usage: USAGE,
    options: {
      wasm: { type: 'string', default: MODEL_WASM },
      name: { type: 'string', default: 'model' },
      force: { type: 'boolean', default: false },
    },
  });
  const network = resolveNetwork('local');
  if (!network.projectReplica && !process.env.IC_URL) {
    throw new Error('the project\'s local replica is not running (no .state/replica.json): start it with scripts/dev, or set IC_URL');
  }
  const wasmPath = path.resolve(values.wasm);
  if (!fs.existsSync(wasmPath)) throw new Error(`${wasmPath} does not exist: build it (mvn -B -q package -DskipTests)`);
  const agent = await createAgent(network, loadProjectIdentity());
  const { canisterId, action, transfer } = await deployLocal({ agent, url: network.url, name: values.name, wasm: fs.readFileSync(wasmPath), force: values.force });
  process.stderr.write(`${values.name}: ${canisterId} ${action}${transfer ? ` (module sent ${transfer})` : ''} on ${network.url}\n`);
}
