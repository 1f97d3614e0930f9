// Shared test helpers: WAT assembly, agents, the management canister actor.

import wabtInit from 'wabt';
import { HttpAgent, Actor } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { startReplica, managementIdlFactory } from '../index.mjs';

const wabt = await wabtInit();

/** Assembles WebAssembly text (SIMD and bulk memory enabled) to a binary. */
export function wat2wasm(source) {
  const module = wabt.parseWat('canister.wat', source, { simd: true, bulk_memory: true });
  try {
    module.resolveNames();
    module.validate();
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

/** Starts a replica that logs nowhere (unless LOCAL_REPLICA_LOG is set). */
export function startTestReplica(options = {}) {
  const log = process.env.LOCAL_REPLICA_LOG ? (line) => process.stderr.write(`${line}\n`) : () => {};
  return startReplica({ log, ...options });
}

export function newIdentity(seedByte = 1) {
  return Ed25519KeyIdentity.generate(new Uint8Array(32).fill(seedByte));
}

export async function newAgent(url, identity, options = {}) {
  return HttpAgent.create({ host: url, identity, shouldFetchRootKey: true, ...options });
}

export function managementActor(agent) {
  return Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa' });
}

/** Creates a canister controlled by the agent's identity and installs `wasm`. */
export async function deploy(agent, wasm, { arg = new Uint8Array(0), settings = [] } = {}) {
  const mgmt = managementActor(agent);
  const { canister_id: canisterId } = await mgmt.provisional_create_canister_with_cycles({
    amount: [], settings, specified_id: [], sender_canister_version: [],
  });
  await mgmt.install_code({ mode: { install: null }, canister_id: canisterId, wasm_module: wasm, arg, sender_canister_version: [] });
  return canisterId;
}

export { IDL, Actor, HttpAgent };
