// Puts a model directory (config.json, tokenizer.json, model.safetensors) on the canister and sets it up, in the
// original README's order. Files whose bytes already landed (sha256 equal) are skipped, interrupted ones resumed,
// and every upload is checked against the sha256 the canister reports for what it received.

import fs from 'node:fs';
import path from 'node:path';
import { createModelActor, MODEL_FILES, readLanded } from './model-canister.mjs';
import { formatBytes } from './progress.mjs';
import { agentUploader, chunkUploader, hashFile, planUpload } from './upload.mjs';

/** The original README's sequence; `group` says which set-up a file belongs to. */
export const SETUP_SEQUENCE = [
  { group: 'model', upload: 'safetensors' },
  { group: 'model', call: 'store_safetensors_bytes_to_stable' },
  { group: 'model', call: 'load_safetensors_bytes_from_stable' },
  { group: 'model', upload: 'config' },
  { group: 'model', call: 'setup_model' },
  { group: 'tokenizer', upload: 'tokenizer' },
  { group: 'tokenizer', call: 'store_tokenizer_bytes_to_stable' },
  { group: 'tokenizer', call: 'load_tokenizer_bytes_from_stable' },
  { group: 'tokenizer', call: 'setup_tokenizer' },
];
const LOADED_FLAG = { model: 'model_loaded', tokenizer: 'tokenizer_loaded' };

/** Per file: its size, sha256 and what to do with it given what the canister holds. */
export async function planModelUpload(actor, dir) {
  const landed = await readLanded(actor);
  const plans = {};
  for (const file of MODEL_FILES) {
    const filePath = path.join(dir, file.fileName);
    if (!fs.existsSync(filePath)) throw new Error(`${filePath} is missing`);
    const size = fs.statSync(filePath).size;
    const on = landed.files[file.key];
    const { prefixSha256, fileSha256 } = await hashFile(filePath, Math.min(on.bytes, size));
    const plan = planUpload({ fileSize: size, landedBytes: on.bytes, landedSha256: on.sha256, prefixSha256 });
    plans[file.key] = { file, path: filePath, size, fileSha256, ...plan };
  }
  return { status: landed.status, plans };
}

async function verifyLanded(actor, { file, size, fileSha256 }) {
  const { bytes, sha256 } = (await readLanded(actor)).files[file.key];
  if (bytes !== size) throw new Error(`${file.fileName}: the canister holds ${bytes} bytes after the upload, the file has ${size}`);
  if (sha256 !== null && sha256 !== fileSha256) {
    throw new Error(`${file.fileName}: what landed has sha256 ${sha256}, the file ${fileSha256}: run again to upload it anew`);
  }
  return sha256 !== null;
}

/**
 * Runs SETUP_SEQUENCE with `uploader` (agentUploader or dfxUploader), reading state through `actor`. A set-up
 * call is skipped when none of its group's files changed and the canister reports that part loaded.
 * Returns the plans and the calls made.
 */
export async function uploadModel({ actor, uploader, dir, log = (line) => process.stderr.write(`${line}\n`) }) {
  const { status, plans } = await planModelUpload(actor, dir);
  for (const { file, size, action, reason } of Object.values(plans)) {
    log(`${file.fileName} (${formatBytes(size)}): ${action === 'skip' ? 'skipped' : action}, ${reason}`);
  }
  const changed = (group) => SETUP_SEQUENCE.some((s) => s.group === group && s.upload && plans[s.upload].action !== 'skip');
  const calls = [];
  for (const step of SETUP_SEQUENCE) {
    if (step.upload) {
      const plan = plans[step.upload];
      if (plan.action === 'skip') continue;
      if (plan.action === 'restart') await uploader.clear(plan.file);
      await uploader.upload(plan.file, plan.path, plan.from, plan.size);
      const verified = await verifyLanded(actor, plan);
      log(`${plan.file.fileName}: ${formatBytes(plan.size)} on the canister${verified ? ', sha256 verified' : ' (not verified: the canister reports no sha256)'}`);
    } else if (changed(step.group) || !status?.[LOADED_FLAG[step.group]]) {
      const started = performance.now();
      await uploader.call(step.call);
      calls.push(step.call);
      log(`${step.call}: ok (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
  }
  if (calls.length === 0) log('model and tokenizer already set up from these files');
  return { plans, calls };
}

/** Fails before the first byte when `principal` may not upload to the canister. */
export async function requireAuthorized(actor, principal, canisterId) {
  if (!(await actor.is_principal_authorized(principal))) {
    throw new Error(`${principal.toText()} may not upload to ${canisterId}: use the identity that deployed it (--identity NAME) `
      + 'or have a controller call add_authorized_principal');
  }
}

/**
 * uploadModel through the official agent, signed by the agent's identity (which must be allowed to upload):
 * parallel chunks (`mode` 'chunks', the default) or sequential appends ('append'). `uploaderOptions` go to
 * chunkUploader (concurrency, progress, signal, retry) or agentUploader (chunkSize, progress, signal, retry).
 */
export async function uploadModelWithAgent({ agent, canisterId, dir, log, mode = 'chunks', ...uploaderOptions }) {
  const actor = await createModelActor(agent, canisterId);
  await requireAuthorized(actor, await agent.getPrincipal(), canisterId);
  const uploader = mode === 'append' ? agentUploader(actor, uploaderOptions) : chunkUploader(actor, { log, ...uploaderOptions });
  return uploadModel({ actor, uploader, dir, log });
}
