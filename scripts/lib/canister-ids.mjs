// --canister <id|name>: a principal as given, or a name looked up where deployments record it.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Principal } from '@icp-sdk/core/principal';
import { defaultIcpEnvironment, icpCanisterIdFiles } from './icp-cli.mjs';
import { readJson, REPO_ROOT, statePaths, writeJson } from './paths.mjs';

/** True when `name` is an executable on PATH. */
export function commandExists(name, env = process.env) {
  return (env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function asPrincipal(text) {
  try {
    return Principal.fromText(text).toText();
  } catch {
    return null;
  }
}

/**
 * The canister id of `nameOrId` on `network` (from resolveNetwork). Looks in .state/canister_ids.json (project
 * replica deployments), .dfx/<network>/canister_ids.json and canister_ids.json (dfx), icp-cli's
 * .icp/{data,cache}/mappings/<icpEnvironment>.ids.json (under icp-cli's project root: $ICP_PROJECT_ROOT, else the
 * repository), then asks dfx. With an icpEnvironment given, only icp-cli's.
 */
export function resolveCanisterId(nameOrId, network, {
  root = REPO_ROOT, stateDir = statePaths().dir, env = process.env, icpEnvironment,
} = {}) {
  const id = asPrincipal(nameOrId);
  if (id) return { canisterId: id, source: 'as given' };
  const icpRoot = env.ICP_PROJECT_ROOT ? path.resolve(env.ICP_PROJECT_ROOT) : root;
  const icpFiles = icpCanisterIdFiles(icpRoot, icpEnvironment ?? defaultIcpEnvironment(network)).map((file) => [file, null, icpRoot]);
  const files = icpEnvironment ? icpFiles : [
    ...(network.projectReplica ? [[path.join(stateDir, 'canister_ids.json'), 'local']] : []),
    [path.join(root, '.dfx', network.name, 'canister_ids.json'), network.name],
    [path.join(root, 'canister_ids.json'), network.name],
    ...icpFiles,
  ];
  for (const [file, key, base = root] of files) {
    const entry = readJson(file)?.[nameOrId];
    const found = key === null ? entry : entry?.[key];
    if (typeof found === 'string' && asPrincipal(found)) return { canisterId: asPrincipal(found), source: path.relative(base, file) };
  }
  if (icpEnvironment) {
    throw new Error(`no canister '${nameOrId}' in icp-cli's environment ${icpEnvironment} (${icpFiles.map(([f]) => path.relative(icpRoot, f)).join(', ')}): `
      + `run icp deploy -e ${icpEnvironment} first or pass --canister <principal>`);
  }
  if (commandExists('dfx', env)) {
    const dfx = spawnSync('dfx', ['canister', 'id', nameOrId, '--network', network.name], { cwd: root, encoding: 'utf8', env });
    const answer = asPrincipal(dfx.stdout?.trim() ?? '');
    if (dfx.status === 0 && answer) return { canisterId: answer, source: 'dfx canister id' };
  }
  throw new Error(`no canister '${nameOrId}' known on network ${network.name} (${network.url}): `
    + 'deploy it first (scripts/dev or scripts/deploy-local, dfx deploy or icp deploy) or pass --canister <principal>');
}

/** Records a project-replica deployment in .state/canister_ids.json (dfx's file format). */
export function saveCanisterId(name, canisterId, stateDir = statePaths().dir) {
  const file = path.join(stateDir, 'canister_ids.json');
  const ids = readJson(file) ?? {};
  ids[name] = { ...ids[name], local: canisterId };
  writeJson(file, ids);
}
