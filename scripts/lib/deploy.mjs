// Creates or upgrades a canister on the project's local replica through the management canister, as dfx deploy
// does: provisional creation with the identity as controller, then install_code (install or upgrade).

import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { Actor } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import { describeError, rejectOf } from './errors.mjs';
import { saveCanisterId } from './canister-ids.mjs';
import { LIMITS } from '../../local-replica/src/module-limits.mjs';
import { importLocalReplica, registerCanisterName } from './local-replica.mjs';
import { readJson, statePaths } from './paths.mjs';

/** A module up to this size goes in one install_code message (2 MiB ingress limit, minus the envelope). */
export const MAX_INLINE_MODULE_BYTES = 1.9 * 1024 * 1024;
/** The management canister's upload_chunk limit. */
export const WASM_CHUNK_BYTES = LIMITS.chunkBytes;
const CYCLES = 100_000_000_000_000n;

const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest();

/** How to send `wasm`: as is, gzipped (the IC accepts gzipped modules), or through the chunk store. */
export function installPlan(wasm) {
  if (wasm.length <= MAX_INLINE_MODULE_BYTES) return { kind: 'inline', module: wasm };
  const gzipped = zlib.gzipSync(wasm, { level: 9 });
  if (gzipped.length <= MAX_INLINE_MODULE_BYTES) return { kind: 'gzip', module: gzipped };
  return { kind: 'chunked', module: gzipped };
}

async function managementActor(agent, effectiveCanisterId) {
  const { managementIdlFactory } = await importLocalReplica();
  return Actor.createActor(managementIdlFactory, {
    agent, canisterId: 'aaaaa-aa', effectiveCanisterId: effectiveCanisterId && Principal.fromText(effectiveCanisterId),
  });
}

/** canister_status, or null when the canister does not exist (e.g. the replica's state was wiped). */
async function canisterStatus(agent, canisterId) {
  try {
    return await (await managementActor(agent, canisterId)).canister_status({ canister_id: Principal.fromText(canisterId) });
  } catch (e) {
    if (rejectOf(e)?.rejectCode === 3) return null; // DESTINATION_INVALID: not found
    throw e;
  }
}

async function installModule(agent, canisterId, wasm, mode) {
  const management = await managementActor(agent, canisterId);
  const canister = Principal.fromText(canisterId);
  const arg = new Uint8Array(IDL.encode([], []));
  const { kind, module } = installPlan(wasm);
  if (kind !== 'chunked') {
    await management.install_code({ mode, canister_id: canister, wasm_module: module, arg, sender_canister_version: [] });
    return kind;
  }
  await management.clear_chunk_store({ canister_id: canister });
  const hashes = [];
  for (let start = 0; start < module.length; start += WASM_CHUNK_BYTES) {
    hashes.push(await management.upload_chunk({ canister_id: canister, chunk: module.subarray(start, start + WASM_CHUNK_BYTES) }));
  }
  await management.install_chunked_code({
    mode, target_canister: canister, store_canister: [], chunk_hashes_list: hashes, wasm_module_hash: sha256(module), arg, sender_canister_version: [],
  });
  return kind;
}

/**
 * Makes `canisterId` (or a new canister when it is null or gone) run `wasm`: install on an empty canister,
 * upgrade when another module runs, nothing when this one already does (unless `force`).
 * Returns { canisterId, action: 'installed' | 'upgraded' | 'unchanged', transfer: 'inline' | 'gzip' | 'chunked' }.
 */
export async function deployCanister({ agent, wasm, canisterId = null, force = false }) {
  let status = canisterId ? await canisterStatus(agent, canisterId) : null;
  let id = status ? canisterId : null;
  if (!id) {
    const created = await (await managementActor(agent)).provisional_create_canister_with_cycles({
      amount: [CYCLES], settings: [], specified_id: [], sender_canister_version: [],
    });
    id = created.canister_id.toText();
    status = await canisterStatus(agent, id);
  }
  const installed = status.module_hash[0] ? Buffer.from(status.module_hash[0]) : null;
  // The replica hashes the module it runs (gunzipped); a replica that hashes what it was sent sees the gzip.
  const unchanged = installed && [sha256(wasm), sha256(installPlan(wasm).module)].some((h) => h.equals(installed));
  if (unchanged && !force) return { canisterId: id, action: 'unchanged', transfer: null };
  try {
    const transfer = await installModule(agent, id, wasm, installed ? { upgrade: [] } : { install: null });
    return { canisterId: id, action: installed ? 'upgraded' : 'installed', transfer };
  } catch (e) {
    throw new Error(`${installed ? 'upgrading' : 'installing'} ${id} failed: ${describeError(e)}`);
  }
}

/**
 * Deploys `wasm` as canister `name` on the project's local replica at `url`: reuses the id saved in
 * .state/canister_ids.json, saves the id, and registers the name for the ic_env cookie.
 */
export async function deployLocal({ agent, url, name, wasm, stateDir, force = false }) {
  const paths = statePaths(stateDir);
  const saved = readJson(paths.canisterIds)?.[name]?.local ?? null;
  let result;
  try {
    result = await deployCanister({ agent, wasm, canisterId: saved, force });
  } catch (e) {
    // e.g. a new module that cannot read the old stable memory: starting over is the way out
    throw new Error(`${e.message}\nTo start over with an empty replica: scripts/dev stop && rm -rf ${paths.replicaState}`);
  }
  saveCanisterId(name, result.canisterId, stateDir);
  await registerCanisterName(url, name, result.canisterId);
  return result;
}
