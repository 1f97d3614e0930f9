// scripts/upload-model: uploads config.json, tokenizer.json and model.safetensors and sets the model up.

import path from 'node:path';
import { commandExists, resolveCanisterId } from '../canister-ids.mjs';
import { parseFlags, positiveInteger } from '../cli.mjs';
import { dfxUploader } from '../dfx.mjs';
import { loadIcpIdentity } from '../icp-cli.mjs';
import { loadPemIdentity, resolveIdentity } from '../identity.mjs';
import { createModelActor } from '../model-canister.mjs';
import { uploadModel, uploadModelWithAgent } from '../model-upload.mjs';
import { createAgent, resolveNetwork } from '../network.mjs';
import { REPO_ROOT } from '../paths.mjs';
import { MAX_CHUNK_SIZE } from '../upload.mjs';

const USAGE = `usage: scripts/upload-model [--network local|ic|URL] [--canister model|ID] [--dir lib/model]
                           [--identity DFX_IDENTITY | --identity-pem FILE | --icp-identity NAME]
                           [--environment ICP_ENVIRONMENT] [--uploader auto|agent|dfx] [--chunk-size BYTES]

Uploads config.json, tokenizer.json and model.safetensors from --dir, then runs store/load/setup_model/
setup_tokenizer in the original README's order. Bytes that already landed are kept (resume, sha256-checked);
files already complete are skipped. Ctrl-C stops after the chunk in flight; run again to resume.
  --uploader dfx    ic-file-uploader + dfx canister call (auto: when both are on PATH and the canister is
                    not on the project's local replica)
  --uploader agent  this script's own uploader on @icp-sdk/core; --chunk-size (default ${MAX_CHUNK_SIZE})
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
      canister: { type: 'string', default: 'model' },
      dir: { type: 'string', default: path.join(REPO_ROOT, 'lib', 'model') },
      identity: { type: 'string' },
      'identity-pem': { type: 'string' },
      'icp-identity': { type: 'string' },
      environment: { type: 'string' },
      uploader: { type: 'string', default: 'auto' },
      'chunk-size': { type: 'string' },
    },
  });
  if (!['auto', 'agent', 'dfx'].includes(values.uploader)) throw new Error(`--uploader must be auto, agent or dfx\n${USAGE}`);
  const network = resolveNetwork(values.network);
  const { canisterId, source } = resolveCanisterId(values.canister, network, { icpEnvironment: values.environment });
  const dfxAvailable = commandExists('ic-file-uploader') && commandExists('dfx');
  const useDfx = values.uploader === 'dfx' || (values.uploader === 'auto' && dfxAvailable && !network.projectReplica);
  if (useDfx && !dfxAvailable) throw new Error('--uploader dfx needs ic-file-uploader and dfx on PATH');
  if (useDfx && (values['identity-pem'] !== undefined || values['icp-identity'] !== undefined)) {
    throw new Error('--identity-pem and --icp-identity sign with the agent: ic-file-uploader signs with dfx\'s identity (use --uploader agent)');
  }
  if (useDfx && values['chunk-size']) throw new Error('--chunk-size applies to --uploader agent only (ic-file-uploader sends 2,000,000 bytes)');
  const chunkSize = values['chunk-size'] ? positiveInteger(values['chunk-size'], '--chunk-size') : MAX_CHUNK_SIZE;
  const dir = path.resolve(values.dir);
  process.stderr.write(`Uploading ${dir} to ${values.canister} (${canisterId}, from ${source}) on ${network.url}\n`);

  const controller = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\nStopping after the chunk in flight (Ctrl-C again to quit at once)\n');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  });

  if (useDfx) {
    process.stderr.write('Uploader: ic-file-uploader and dfx (the original sequence)\n');
    const actor = await createModelActor(await createAgent(network), canisterId); // reads only: anonymous
    await uploadModel({ actor, uploader: dfxUploader(values.canister, network), dir });
  } else {
    const { identity, source: identitySource } = chooseIdentity(values, network);
    process.stderr.write(`Uploader: agent, signed by ${identity.getPrincipal().toText()} (${identitySource})\n`);
    const agent = await createAgent(network, identity);
    await uploadModelWithAgent({ agent, canisterId, dir, chunkSize: () => chunkSize, signal: controller.signal });
  }
  process.stderr.write('Model and tokenizer are set up.\n');
}
