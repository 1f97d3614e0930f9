// Starts a command of scripts/: installs the repository's Node packages (root package.json) on first use, runs lib/commands/<name>.mjs, and
// turns an error into one clear line and exit status 1 (DEBUG=1 adds the stack).

import { fileURLToPath } from 'node:url';
import { npmCiIfNeeded } from './npm.mjs';

export async function runCommand(name) {
  try {
    npmCiIfNeeded(fileURLToPath(new URL('../..', import.meta.url)));
  } catch (e) {
    process.stderr.write(`${name}: error: ${e.message}\n`);
    process.exit(1);
  }
  const { describeError } = await import('./errors.mjs');
  const { main } = await import(`./commands/${name}.mjs`);
  try {
    await main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`\n${name}: error: ${describeError(e)}\n`);
    if (process.env.DEBUG) process.stderr.write(`${e.stack}\n`);
    process.exit(1);
  }
}
