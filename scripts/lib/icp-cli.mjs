// What the scripts read from DFINITY's icp-cli: canister ids from a project's state and named identities.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { commandExists } from './canister-ids.mjs';
import { identityFromPem } from './identity.mjs';
import { REPO_ROOT } from './paths.mjs';

/** icp-cli's npm package, a dev dependency of this repository. */
const BUNDLED_ICP = path.join(REPO_ROOT, 'node_modules', '@icp-sdk', 'icp-cli-linux-x64', 'bin', 'icp');

/** The icp binary: the one on PATH, else this repository's dev dependency. */
export function icpCommand(env = process.env) {
  return commandExists('icp', env) ? 'icp' : BUNDLED_ICP;
}

/** icp-cli's environment for a network flag: `ic` for mainnet, `local` otherwise (its two implicit ones). */
export const defaultIcpEnvironment = (network) => (network.mainnet ? 'ic' : 'local');

/**
 * The files where icp-cli records the canister ids of `environment` in a project: `{ name: id }`, under
 * .icp/data/ for connected networks (mainnet), .icp/cache/ for the networks icp-cli runs itself.
 */
export function icpCanisterIdFiles(root, environment) {
  if (!/^[A-Za-z0-9_-]+$/.test(environment)) throw new Error(`invalid icp-cli environment name '${environment}'`);
  return ['data', 'cache'].map((kind) => path.join(root, '.icp', kind, 'mappings', `${environment}.ids.json`));
}

/** The identity `icp identity export NAME` prints (icp-cli asks for the password of a protected one). */
export function loadIcpIdentity(name, { icp = icpCommand(), env = process.env } = {}) {
  const exported = spawnSync(icp, ['identity', 'export', name], { encoding: 'utf8', env, stdio: ['inherit', 'pipe', 'pipe'] });
  if (exported.error) throw new Error(`icp identity export ${name}: ${exported.error.message}`);
  if (exported.status !== 0) {
    throw new Error(`icp identity export ${name} failed: ${exported.stderr.trim().split('\n').slice(-3).join(' ')}`);
  }
  try {
    return identityFromPem(exported.stdout);
  } catch (e) {
    throw new Error(`icp identity '${name}': ${e.message}`);
  }
}
