// The model canister's Candid IDL for Node tools and tests, generated from candid/model.did by the official
// icp-bindgen (never written by hand), regenerated whenever the .did is newer than the generated file.
//
//   import { modelIdlFactory } from '<repo>/scripts/build/model-bindings.mjs';

import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const didFile = join(root, 'candid', 'model.did');
const outDir = join(root, 'build', 'bindings');
const generated = join(outDir, 'model.did.js');

if (!existsSync(generated) || statSync(generated).mtimeMs < statSync(didFile).mtimeMs) {
  execFileSync(join(root, 'node_modules', '.bin', 'icp-bindgen'),
    ['--did-file', didFile, '--out-dir', outDir, '--actor-disabled', '--declarations-flat', '--force'],
    { stdio: ['ignore', 'ignore', 'inherit'] });
}

export const { idlFactory: modelIdlFactory } = await import(pathToFileURL(generated).href);
