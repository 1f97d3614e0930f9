// The model canister seen from a client: its actor, the three uploaded files, and the Result replies.

import { Actor } from '@icp-sdk/core/agent';
import { modelIdlFactory } from '../build/model-bindings.mjs';
import { isTransientError } from './errors.mjs';
import { logRetry, withRetry } from './retry.mjs';

/**
 * The files of a model directory, and the canister methods that receive each (names as in candid/model.did): the
 * sequential append_*, and the parallel put_*_chunk / missing_*_chunks / finish_*_upload.
 */
export const MODEL_FILES = [
  { key: 'safetensors', fileName: 'model.safetensors' },
  { key: 'config', fileName: 'config.json' },
  { key: 'tokenizer', fileName: 'tokenizer.json' },
].map((file) => ({
  ...file,
  append: `append_${file.key}_bytes`,
  length: `${file.key}_bytes_length`,
  clear: `clear_${file.key}_bytes`,
  put: `put_${file.key}_chunk`,
  missing: `missing_${file.key}_chunks`,
  finish: `finish_${file.key}_upload`,
}));

export async function createModelActor(agent, canisterId) {
  return Actor.createActor(modelIdlFactory, { agent, canisterId });
}

/** The Ok value of a `variant { Ok; Err : text }`-style reply; throws the Err text. */
export function unwrap(result, what) {
  if ('Err' in result) throw new Error(`${what}: ${result.Err}`);
  return result.Ok;
}

/** The largest hourly instruction budget the canister's usage policy takes (its nat64s stay below 2^63). */
const UNCAPPED = 2n ** 63n - 1n;

/**
 * Lifts the canister's hourly instruction budgets (as a controller): a benchmark spends more in an hour than the
 * default policy lets one caller (docs/security.md).
 */
export async function liftHourlyBudgets(actor) {
  const policy = await actor.get_usage_policy();
  unwrap(await actor.set_usage_policy({ ...policy, per_caller_instructions_per_hour: UNCAPPED,
    total_instructions_per_hour: UNCAPPED }), 'set_usage_policy');
}

/**
 * What the canister holds of each file: { status, files: { [key]: { bytes, sha256 } } }. The sha256 (hex) comes
 * from `status`; a canister without it reports lengths only (sha256 null, status null).
 */
export function readLanded(actor) {
  return withRetry(() => readLandedOnce(actor), { onRetry: logRetry('status') });
}

async function readLandedOnce(actor) {
  let status = null;
  try {
    status = await actor.status();
  } catch (e) {
    if (isTransientError(e)) throw e;
  }
  const files = {};
  for (const file of MODEL_FILES) {
    files[file.key] = status
      ? { bytes: Number(status[`${file.key}_bytes`]), sha256: Buffer.from(status[`${file.key}_sha256`]).toString('hex') }
      : { bytes: Number(await actor[file.length]()), sha256: null };
  }
  return { status, files };
}
