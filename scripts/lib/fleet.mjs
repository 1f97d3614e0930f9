// A fleet of model canisters: N canisters running the same module and holding the same model, named `model`,
// `model_1`, … `model_<N-1>` (so one canister is plain `model`, as before). The names become the ic_env cookie's
// PUBLIC_CANISTER_ID:<name> entries and dfx's CANISTER_ID_<NAME> variables, from which the page learns the fleet.

import { resolveCanisterId } from './canister-ids.mjs';
import { deployLocal } from './deploy.mjs';

export const FLEET_BASE_NAME = 'model';
/** Enough for any subnet's share; a typo such as --replicas 400 should fail, not create 400 canisters. */
export const MAX_REPLICAS = 32;

/** The names of a fleet of `replicas` canisters: model, model_1, …, model_<replicas-1>. */
export function fleetNames(replicas, base = FLEET_BASE_NAME) {
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
    throw new Error(`the number of replicas must be 1..${MAX_REPLICAS}, got ${replicas}`);
  }
  return Array.from({ length: replicas }, (_, i) => (i === 0 ? base : `${base}_${i}`));
}

/**
 * The fleet deployed on `network`: [{ name, canisterId, source }] for model, model_1, … up to the first name no
 * deployment record knows (see resolveCanisterId). Throws when not even `base` is known.
 */
export function resolveFleet(network, { base = FLEET_BASE_NAME, ...lookup } = {}) {
  const fleet = [];
  for (const name of fleetNames(MAX_REPLICAS, base)) {
    try {
      fleet.push({ name, ...resolveCanisterId(name, network, lookup) });
    } catch (e) {
      if (fleet.length === 0) throw e;
      break;
    }
  }
  return fleet;
}

/**
 * Deploys `wasm` as each canister of a fleet of `replicas` on the project's local replica at `url` (deployLocal:
 * creates, upgrades or leaves each as it is). Returns [{ name, canisterId, action, transfer }] in fleet order.
 */
export async function deployLocalFleet({ replicas, onDeployed = () => {}, ...deployOptions }) {
  const deployed = [];
  for (const name of fleetNames(replicas)) {
    const member = { name, ...await deployLocal({ ...deployOptions, name }) };
    onDeployed(member);
    deployed.push(member);
  }
  return deployed;
}
