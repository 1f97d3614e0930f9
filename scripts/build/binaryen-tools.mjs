// Runs binaryen's command-line tools from the npm package (node_modules/.bin), installing it if missing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The Wasm features the IC accepts that our modules use: TeaVM needs the first two, the kernels SIMD. */
export const FEATURE_FLAGS = ['--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-simd'];

export function ensureNodeModules() {
  if (existsSync(join(repoRoot, 'node_modules', 'binaryen'))) return;
  console.log('[wasm] node_modules missing: running npm ci');
  try {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: repoRoot, stdio: 'inherit' });
  } catch {
    throw new Error('npm ci failed: install Node 20+ and npm, then run `npm ci` in ' + repoRoot);
  }
}

export function binaryen(tool, args) {
  ensureNodeModules();
  execFileSync(join(repoRoot, 'node_modules', '.bin', tool), args, { stdio: 'inherit' });
}
