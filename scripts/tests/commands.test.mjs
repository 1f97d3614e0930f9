import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPTS = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const run = (command, ...args) => spawnSync(process.execPath, [path.join(SCRIPTS, command), ...args], { encoding: 'utf8' });

test('each command prints its usage with --help', () => {
  for (const command of ['dev', 'deploy-local', 'upload-model', 'bench']) {
    const { status, stdout } = run(command, '--help');
    assert.equal(status, 0, command);
    assert.match(stdout, new RegExp(`^usage: scripts/${command}`), command);
  }
});

test('bad flags fail before anything runs, with the reason', () => {
  const cases = [
    [['upload-model', '--uploader', 'ftp'], /--uploader must be auto, agent or dfx/],
    [['upload-model', '--chunk-size', '0', '--canister', 'aaaaa-aa'], /--chunk-size expects a positive integer/],
    [['bench', '--cells', '64'], /bad cell '64'/],
    [['bench', '--quick', '--cells', '1x1'], /--quick and --cells exclude each other/],
    [['dev', 'restart'], /unknown command 'restart'/],
    [['dev', '--no-build', '--ic-timing', 'fast'], /--ic-timing expects mainnet or off/],
    [['bench', '--streaming', '--quick'], /--streaming runs its own scenarios in f32/],
    [['deploy-local', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [args, message] of cases) {
    const { status, stderr } = run(...args);
    assert.equal(status, 1, args.join(' '));
    assert.match(stderr, message, args.join(' '));
  }
});
