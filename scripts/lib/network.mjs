// --network local|ic|<url>: where the replica is, and an agent that talks to it.

import { HttpAgent } from '@icp-sdk/core/agent';
import { readJson, statePaths } from './paths.mjs';

export const MAINNET_URL = 'https://icp-api.io';
export const DFX_LOCAL_URL = 'http://127.0.0.1:4943';
const MAINNET_HOSTS = /(^|\.)(icp-api\.io|ic0\.app|icp0\.io)$/;

/**
 * Resolves a network flag to { name, url, mainnet, projectReplica }. `local` is $IC_URL, else the project's
 * local replica (.state/replica.json, written by scripts/dev), else dfx's local replica. `name` is what dfx
 * calls the network (for its canister_ids.json files and its --network flag).
 */
export function resolveNetwork(network = 'local', { env = process.env, stateDir } = {}) {
  const projectUrl = readJson(statePaths(stateDir).replicaInfo)?.url ?? null;
  const describe = (name, url) => {
    const normalized = url.replace(/\/+$/, '');
    const mainnet = MAINNET_HOSTS.test(new URL(normalized).hostname);
    return { name, url: normalized, mainnet, projectReplica: normalized === projectUrl };
  };
  if (network === 'ic') return describe('ic', MAINNET_URL);
  if (network === 'local') return describe('local', env.IC_URL || projectUrl || DFX_LOCAL_URL);
  if (/^https?:\/\//.test(network)) return describe(network, network);
  throw new Error(`unknown network '${network}': use local, ic or a URL such as http://127.0.0.1:4943`);
}

/** An agent for the network; it trusts the root key a non-mainnet replica reports. */
export async function createAgent(network, identity) {
  return HttpAgent.create({ host: network.url, identity, shouldFetchRootKey: !network.mainnet });
}
