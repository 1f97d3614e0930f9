// scripts/dev: build everything, run the local replica in the background, deploy the model canister, upload the
// model, print the chat page's URL. `scripts/dev stop` stops the replica.

import fs from 'node:fs';
import path from 'node:path';
import { parseFlags, positiveInteger } from '../cli.mjs';
import { deployLocalFleet } from '../fleet.mjs';
import { loadProjectIdentity } from '../identity.mjs';
import { startBackgroundReplica, stopBackgroundReplica } from '../local-replica.mjs';
import { uploadModelWithAgent } from '../model-upload.mjs';
import { createAgent, resolveNetwork } from '../network.mjs';
import { npmCiIfNeeded } from '../npm.mjs';
import { MODEL_WASM, REPO_ROOT, statePaths } from '../paths.mjs';
import { run } from '../process.mjs';
import { DEMO_SHAPE, ensureRandomModel } from '../random-model.mjs';

const USAGE = `usage: scripts/dev [--no-build] [--ic-timing mainnet|off] [--replicas N]   build, start the local replica,
                                                                          deploy, upload the model, print the chat URL
       scripts/dev stop                                                   stop the local replica

The replica listens on $PORT (default 4943), keeps its state in .state/replica (log .state/replica.log) and serves
frontend-canister/dist. The model comes from lib/model/ when lib/model/model.safetensors exists (scripts/download-model),
otherwise a small random demo model is generated into .state/demo-model. Re-running reuses the running replica and
skips files already uploaded. The replica runs update calls with the IC mainnet's timing (2 B instructions per
round of about a second, a round for induction and one for certification), so answers stream as they would on
mainnet; uploading the full model then takes about as long as on mainnet (~10 min): --ic-timing off runs every call
at once. --replicas N (default 1) deploys a fleet of N model canisters (model, model_1, …), each holding the
model; the page spreads its conversations over them.`;

const FRONTEND_DIR = path.join(REPO_ROOT, 'frontend-canister');
const REAL_MODEL_DIR = path.join(REPO_ROOT, 'lib', 'model');
const step = (text) => process.stderr.write(`\n==> ${text}\n`);

async function build() {
  step('Building the canister (mvn -B -q package -DskipTests)');
  npmCiIfNeeded(REPO_ROOT);
  await run('mvn', ['-B', '-q', 'package', '-DskipTests'], { cwd: REPO_ROOT });
  if (fs.existsSync(path.join(FRONTEND_DIR, 'package.json'))) {
    step('Building the chat page (frontend-canister: npm ci && npm run build)');
    npmCiIfNeeded(FRONTEND_DIR);
    await run('npm', ['run', 'build'], { cwd: FRONTEND_DIR });
  }
}

/** lib/model/ with the real weights, else the demo model (generated once). */
async function modelDir(paths) {
  if (fs.existsSync(path.join(REAL_MODEL_DIR, 'model.safetensors'))) return REAL_MODEL_DIR;
  process.stderr.write(`\nNOTE: ${path.relative(REPO_ROOT, REAL_MODEL_DIR)}/model.safetensors is missing, so the chat runs a small RANDOM demo model `
    + `(${DEMO_SHAPE.layers} layers, ${DEMO_SHAPE.embd} embd, the real tokenizer): its answers are gibberish.\n`
    + 'For GPT-2 itself run scripts/download-model, then scripts/dev again.\n');
  if (await ensureRandomModel(paths.demoModel, DEMO_SHAPE)) process.stderr.write(`Generated ${path.relative(REPO_ROOT, paths.demoModel)}\n`);
  return paths.demoModel;
}

export async function main(argv) {
  const { values, positionals } = parseFlags(argv, {
    usage: USAGE,
    positionals: true,
    options: {
      'no-build': { type: 'boolean', default: false },
      'ic-timing': { type: 'string', default: 'mainnet' },
      replicas: { type: 'string', default: '1' },
    },
  });
  const replicas = positiveInteger(values.replicas, '--replicas');
  const paths = statePaths();
  if (positionals[0] === 'stop') {
    process.stderr.write((await stopBackgroundReplica()) ? 'Local replica stopped.\n' : 'No local replica was running.\n');
    return;
  }
  if (positionals.length) throw new Error(`unknown command '${positionals[0]}'\n${USAGE}`);
  if (!['mainnet', 'off'].includes(values['ic-timing'])) throw new Error(`--ic-timing expects mainnet or off\n${USAGE}`);
  const icTiming = values['ic-timing'] === 'off' ? null : values['ic-timing'];

  if (!values['no-build']) await build();
  if (!fs.existsSync(MODEL_WASM)) throw new Error(`${MODEL_WASM} is missing: run scripts/dev without --no-build`);

  const port = positiveInteger(process.env.PORT ?? '4943', 'PORT');
  const serveDir = fs.existsSync(path.join(FRONTEND_DIR, 'package.json')) ? path.join(FRONTEND_DIR, 'dist') : null;
  step(`Local replica on port ${port}`);
  const { url, reused } = await startBackgroundReplica({ port, serveDir, icTiming });
  process.stderr.write(`${reused ? 'Reusing the running' : 'Started the'} local replica at ${url} (log: ${path.relative(REPO_ROOT, paths.replicaLog)})\n`);

  step(replicas === 1 ? 'Deploying the model canister' : `Deploying ${replicas} model canisters`);
  const network = resolveNetwork(url);
  const agent = await createAgent(network, loadProjectIdentity());
  const fleet = await deployLocalFleet({
    agent, url, replicas, wasm: fs.readFileSync(MODEL_WASM),
    onDeployed: ({ name, canisterId, action }) => process.stderr.write(`${name}: ${canisterId} (${action})\n`),
  });

  const dir = await modelDir(paths);
  for (const { name, canisterId } of fleet) {
    step(`Uploading the model from ${path.relative(REPO_ROOT, dir)} to ${name}`);
    await uploadModelWithAgent({ agent, canisterId, dir });
  }

  const page = serveDir ? `${url}/` : null;
  const ids = fleet.map(({ canisterId }) => canisterId).join(', ');
  process.stdout.write(`\n${page ? `Chat: ${page}` : `No chat page (frontend-canister/ is missing); the model canister${fleet.length > 1 ? 's' : ''} ${ids} answer${fleet.length > 1 ? '' : 's'} at ${url}`}\n`
    + 'Stop the replica with: scripts/dev stop\n');
}
