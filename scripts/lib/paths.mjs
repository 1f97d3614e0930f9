// Where things live: the repository, the scripts package and the project's local state (.state/, git-ignored).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCRIPTS_DIR = fileURLToPath(new URL('..', import.meta.url));
export const REPO_ROOT = path.dirname(SCRIPTS_DIR);
export const STATE_DIR = path.join(REPO_ROOT, '.state');
export const MODEL_WASM = path.join(REPO_ROOT, 'model-canister', 'target', 'model.wasm');
export const MODEL_DID = path.join(REPO_ROOT, 'candid', 'model.did');
export const LOCAL_REPLICA_DIR = path.join(REPO_ROOT, 'local-replica');

/** Files under a state directory (default .state/). */
export function statePaths(stateDir = STATE_DIR) {
  return {
    dir: stateDir,
    replicaInfo: path.join(stateDir, 'replica.json'),
    replicaPid: path.join(stateDir, 'replica.pid'),
    replicaLog: path.join(stateDir, 'replica.log'),
    replicaState: path.join(stateDir, 'replica'),
    canisterIds: path.join(stateDir, 'canister_ids.json'),
    identity: path.join(stateDir, 'identity.json'),
    demoModel: path.join(stateDir, 'demo-model'),
    benchModel: path.join(stateDir, 'bench-model'),
  };
}

/** The parsed JSON file, or null when it does not exist. */
export function readJson(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT') return null;
    throw e;
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${e.message}`);
  }
}

export function writeJson(file, value, { mode } = {}) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`, { mode });
}
