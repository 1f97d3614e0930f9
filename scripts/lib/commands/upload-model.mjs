// scripts/upload-model: uploads config.json, tokenizer.json and model.safetensors to each canister of the fleet
// (or the ones named) and sets the model up.

import path from 'node:path';
import { commandExists, resolveCanisterId } from '../canister-ids.mjs';
import { parseFlags, positiveInteger } from '../cli.mjs';
import { dfxUploader } from '../dfx.mjs';
import { resolveFleet } from '../fleet.mjs';
import { loadIcpIdentity } from '../icp-cli.mjs';
import { loadPemIdentity, resolveIdentity } from '../identity.mjs';
import { createModelActor } from '../model-canister.mjs';
import { uploadModel, uploadModelWithAgent } from '../model-upload.mjs';
import { createAgent, resolveNetwork } from '../network.mjs';
import { REPO_ROOT } from '../paths.mjs';
import { DEFAULT_CONCURRENCY, MAX_CHUNK_SIZE } from '../upload.mjs';

const USAGE = `usage: scripts/upload-model [--network local|ic|URL] [--canister model|ID ...] [--dir lib/model]
                           [--identity DFX_IDENTITY | --identity-pem FILE | --icp-identity NAME]
                           [--environment ICP_ENVIRONMENT] [--uploader auto|agent|append|dfx]
                           [--concurrency N] [--chunk-size BYTES]

Uploads config.json, tokenizer.json and model.safetensors from --dir, then runs store/load/setup_model/
setup_tokenizer in the original README's order. Bytes that already landed are kept (resume, sha256-checked);
files already complete are skipped. Ctrl-C stops after the chunk in flight; run again to resume.
  --uploader agent  parallel chunks on @icp-sdk/core (put_*_chunk as ic-file-uploader --parallel sends them):
                    --concurrency calls in flight (default ${DEFAULT_CONCURRENCY}); a rerun sends only the chunks the
                    canister lacks (missing_*_chunks), then finish_*_upload checks them and computes the SHA-256
  --uploader append the original sequential append_* on @icp-sdk/core, --chunk-size (default ${MAX_CHUNK_SIZE})
  --canister        the canister (repeat it for several); by default every canister of the fleet, one after
                    the other: model, model_1, model_2, … as far as the deployment records know them
  --uploader dfx    ic-file-uploader + dfx canister call (auto: when both are on PATH and the canister is
                    not on the project's local replica; otherwise auto means agent)
  --identity NAME   a dfx identity (default: the project identity for the project's replica, else dfx's selected one)
  --identity-pem FILE   the identity in a PEM file (Ed25519 or secp256k1, e.g. from icp identity export)
  --icp-identity NAME   an icp-cli identity (read with icp identity export NAME)
  --environment NAME    read the canister id from icp-cli's project state for this environment only
                        (.icp/{data,cache}/mappings/NAME.ids.json under $ICP_PROJECT_ROOT or the repository;
                        without it they are read after dfx's files, for environment ic with --network ic, else local)`;

/** The identity that signs the upload, from one of the identity flags. */
function chooseIdentity(values, network) {
  const given = ['identity', 'identity-pem', 'icp-identity'].filter((flag) => values[flag] !== undefined);
  if (given.length > 1) throw new Error(`use one of --${given.join(', --')}\n${USAGE}`);
  if (values['identity-pem'] !== undefined) {
    return { identity: loadPemIdentity(values['identity-pem']), source: `PEM ${values['identity-pem']}` };
  }
  if (values['icp-identity'] !== undefined) {
    return { identity: loadIcpIdentity(values['icp-identity']), source: `icp-cli identity '${values['icp-identity']}'` };
  }
  return resolveIdentity({ name: values.identity, network });
}

export async function main(argv) {
  const { values } = parseFlags(argv, {
    usage: USAGE,
    options: {
      network: { type: 'string', default: 'local' },
      canister: { type: 'string', multiple: true },
      dir: { type: 'string', default: path.join(REPO_ROOT, 'lib', 'model') },
      identity: { type: 'string' },
      'identity-pem': { type: 'string' },
      'icp-identity': { type: 'string' },
      environment: { type: 'string' },
      uploader: { type: 'string', default: 'auto' },
      concurrency: { type: 'string' },
      'chunk-size': { type: 'string' },
    },
  });
  if (!['auto', 'agent', 'append', 'dfx'].includes(values.uploader)) throw new Error(`--uploader must be auto, agent, append or dfx\n${USAGE}`);
  const network = resolveNetwork(values.network);
  const lookup = { icpEnvironment: values.environment };
  const targets = values.canister
    ? values.canister.map((name) => ({ name, ...resolveCanisterId(name, network, lookup) }))
    : resolveFleet(network, lookup);
  const dfxAvailable = commandExists('ic-file-uploader') && commandExists('dfx');
  const useDfx = values.uploader === 'dfx' || (values.uploader === 'auto' && dfxAvailable && !network.projectReplica);
  if (useDfx && !dfxAvailable) throw new Error('--uploader dfx needs ic-file-uploader and dfx on PATH');
  if (useDfx && (values['identity-pem'] !== undefined || values['icp-identity'] !== undefined)) {
    throw new Error('--identity-pem and --icp-identity sign with the agent: ic-file-uploader signs with dfx\'s identity (use --uploader agent)');
  }
  const append = values.uploader === 'append';
  if (values['chunk-size'] !== undefined && !append) throw new Error('--chunk-size applies to --uploader append only (chunks and ic-file-uploader send 2,000,000 bytes)');
  if (values.concurrency !== undefined && (useDfx || append)) throw new Error('--concurrency applies to --uploader agent only');
  const chunkSize = values['chunk-size'] ? positiveInteger(values['chunk-size'], '--chunk-size') : MAX_CHUNK_SIZE;
  const concurrency = values.concurrency ? positiveInteger(values.concurrency, '--concurrency') : DEFAULT_CONCURRENCY;
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
    const { identity, source: identitySource } = chooseIdentity(values, network);
    const how = append ? 'agent, sequential appends' : `agent, ${concurrency} chunks in flight`;
    process.stderr.write(`Uploader: ${how}, signed by ${identity.getPrincipal().toText()} (${identitySource})\n`);
    agent = await createAgent(network, identity);
  }
  for (const { name, canisterId, source } of targets) {
    process.stderr.write(`\nUploading ${dir} to ${name} (${canisterId}, from ${source}) on ${network.url}\n`);
    if (useDfx) {
      const actor = await createModelActor(await createAgent(network), canisterId); // reads only: anonymous
      await uploadModel({ actor, uploader: dfxUploader(name, network), dir });
    } else {
      const options = append ? { mode: 'append', chunkSize: () => chunkSize } : { concurrency };
      await uploadModelWithAgent({ agent, canisterId, dir, signal: controller.signal, ...options });
    }
  }
  process.stderr.write(`Model and tokenizer are set up on ${targets.length === 1 ? targets[0].name : `all ${targets.length} canisters`}.\n`);
}
