// `npm ci` when a package's node_modules is missing or older than its package-lock.json (no dependencies of its own:
// entry.mjs uses it before the scripts package is installed).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export function npmCiIfNeeded(dir) {
  const installed = path.join(dir, 'node_modules', '.package-lock.json');
  const lock = path.join(dir, 'package-lock.json');
  const hasLock = fs.existsSync(lock);
  if (fs.existsSync(installed) && (!hasLock || fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs)) return;
  process.stderr.write(`Installing packages in ${dir} (npm ${hasLock ? 'ci' : 'install'})...\n`);
  const npm = spawnSync('npm', [hasLock ? 'ci' : 'install', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
  if (npm.status !== 0) throw new Error(`npm ${hasLock ? 'ci' : 'install'} in ${dir} failed`);
}
