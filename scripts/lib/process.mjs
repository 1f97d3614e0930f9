// Runs other programs (mvn, npm, dfx, ic-file-uploader, python): output streams through unless captured.

import { spawn } from 'node:child_process';

/** Resolves with stdout (when `capture`) once `command` exits 0; rejects with its stderr tail otherwise. */
export function run(command, args, { cwd, capture = false, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', capture ? 'pipe' : 'inherit', capture ? 'pipe' : 'inherit'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => { stdout += d; });
    child.stderr?.on('data', (d) => { stderr += d; });
    child.on('error', (e) => reject(new Error(e.code === 'ENOENT' ? `${command} is not installed (not on PATH)` : `${command}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(stdout);
      const tail = stderr.trim().split('\n').slice(-15).join('\n');
      reject(new Error(`${[command, ...args].join(' ')} failed (${signal ?? `exit ${code}`})${tail ? `:\n${tail}` : ''}`));
    });
  });
}
