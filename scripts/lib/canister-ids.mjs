// --canister <id|name>: a principal as given, or a name looked up where deployments record it.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Principal } from '@icp-sdk/core/principal';
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
 * replica deployments), .dfx/<network>/canister_ids.json and canister_ids.json (dfx), then asks dfx.
 */
export function resolveCanisterId(nameOrId, network, { root = REPO_ROOT, stateDir = statePaths().dir, env = process.env } = {}) {
  const id = asPrincipal(nameOrId);
  if (id) return { canisterId: id, source: 'as given' };
  const files = [
    ...(network.projectReplica ? [[path.join(stateDir, 'canister_ids.json'), 'local']] : []),
    [path.join(root, '.dfx', network.name, 'canister_ids.json'), network.name],
    [path.join(root, 'canister_ids.json'), network.name],
  ];
  for (const [file, key] of files) {
    const found = readJson(file)?.[nameOrId]?.[key];
    if (found) return { canisterId: found, source: path.relative(root, file) };
  }
  if (commandExists('dfx', env)) {
    const dfx = spawnSync('dfx', ['canister', 'id', nameOrId, '--network', network.name], { cwd: root, encoding: 'utf8', env });
    const answer = asPrincipal(dfx.stdout?.trim() ?? '');
    if (dfx.status === 0 && answer) return { canisterId: answer, source: 'dfx canister id' };
  }
  throw new Error(`no canister '${nameOrId}' known on network ${network.name} (${network.url}): `
    + 'deploy it first (scripts/dev or scripts/deploy-local, or dfx deploy) or pass --canister <principal>');
}

/** Records a project-replica deployment in .state/canister_ids.json (dfx's file format). */
export function saveCanisterId(name, canisterId, stateDir = statePaths().dir) {
  const file = path.join(stateDir, 'canister_ids.json');
  const ids = readJson(file) ?? {};
  ids[name] = { ...ids[name], local: canisterId };
  writeJson(file, ids);
}
