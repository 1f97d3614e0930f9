// scripts/upload-model: uploads config.json, tokenizer.json and model.safetensors to each canister of the fleet
// (or the ones named) and sets the model up.

import path from 'node:path';
import { commandExists, resolveCanisterId } from '../canister-ids.mjs';
import { parseFlags, positiveInteger } from '../cli.mjs';
import { dfxUploader } from '../dfx.mjs';
import { resolveFleet } from '../fleet.mjs';
import { resolveIdentity } from '../identity.mjs';
import { createModelActor } from '../model-canister.mjs';
import { uploadModel, uploadModelWithAgent } from '../model-upload.mjs';
import { createAgent, resolveNetwork } from '../network.mjs';
import { REPO_ROOT } from '../paths.mjs';
import { MAX_CHUNK_SIZE } from '../upload.mjs';

const USAGE = `usage: scripts/upload-model [--network local|ic|URL] [--canister model|ID ...] [--dir lib/model]
                           [--identity DFX_IDENTITY] [--uploader auto|agent|dfx] [--chunk-size BYTES]

Uploads config.json, tokenizer.json and model.safetensors from --dir, then runs store/load/setup_model/
setup_tokenizer in the original README's order. Bytes that already landed are kept (resume, sha256-checked);
files already complete are skipped. Ctrl-C stops after the chunk in flight; run again to resume.
  --canister        the canister (repeat it for several); by default every canister of the fleet, one after
                    the other: model, model_1, model_2, … as far as the deployment records know them
  --uploader dfx    ic-file-uploader + dfx canister call (auto: when both are on PATH and the canister is
                    not on the project's local replica)
  --uploader agent  this script's own uploader on @icp-sdk/core; --chunk-size (default ${MAX_CHUNK_SIZE})
  --identity NAME   a dfx identity (default: the project identity for the project's replica, else dfx's selected one)`;

export async function main(argv) {
  const { values } = parseFlags(argv, {
    usage: USAGE,
    options: {
      network: { type: 'string', default: 'local' },
      canister: { type: 'string', multiple: true },
      dir: { type: 'string', default: path.join(REPO_ROOT, 'lib', 'model') },
      identity: { type: 'string' },
      uploader: { type: 'string', default: 'auto' },
      'chunk-size': { type: 'string' },
    },
  });
  if (!['auto', 'agent', 'dfx'].includes(values.uploader)) throw new Error(`--uploader must be auto, agent or dfx\n${USAGE}`);
  const network = resolveNetwork(values.network);
  const targets = values.canister
    ? values.canister.map((name) => ({ name, ...resolveCanisterId(name, network) }))
    : resolveFleet(network);
  const dfxAvailable = commandExists('ic-file-uploader') && commandExists('dfx');
  const useDfx = values.uploader === 'dfx' || (values.uploader === 'auto' && dfxAvailable && !network.projectReplica);
  if (useDfx && !dfxAvailable) throw new Error('--uploader dfx needs ic-file-uploader and dfx on PATH');
  if (useDfx && values['chunk-size']) throw new Error('--chunk-size applies to --uploader agent only (ic-file-uploader sends 2,000,000 bytes)');
  const chunkSize = values['chunk-size'] ? positiveInteger(values['chunk-size'], '--chunk-size') : MAX_CHUNK_SIZE;
  const dir = path.resolve(values.dir);

  const controller = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\nStopping after the chunk in flight (Ctrl-C again to quit at once)\n');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  });

  let agent = null;
  if (useDfx) {
    process.stderr.write('Uploader: ic-file-uploader and dfx (the original sequence)\n');
  } else {
    const { identity, source: identitySource } = resolveIdentity({ name: values.identity, network });
    process.stderr.write(`Uploader: agent, signed by ${identity.getPrincipal().toText()} (${identitySource})\n`);
    agent = await createAgent(network, identity);
  }
  for (const { name, canisterId, source } of targets) {
    process.stderr.write(`\nUploading ${dir} to ${name} (${canisterId}, from ${source}) on ${network.url}\n`);
    if (useDfx) {
      const actor = await createModelActor(await createAgent(network), canisterId); // reads only: anonymous
      await uploadModel({ actor, uploader: dfxUploader(name, network), dir });
    } else {
      await uploadModelWithAgent({ agent, canisterId, dir, chunkSize: () => chunkSize, signal: controller.signal });
    }
  }
  process.stderr.write(`Model and tokenizer are set up on ${targets.length === 1 ? targets[0].name : `all ${targets.length} canisters`}.\n`);
}
