// --state: canisters survive a restart of the CLI (spawned as a child process).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import readline from 'node:readline';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { wat2wasm, newIdentity, newAgent, deploy, managementActor, Actor } from '../testing/helpers.mjs';
import { COUNTER_WAT, counterIdl } from '../testing/canisters.mjs';

const CLI = fileURLToPath(new URL('../cli.mjs', import.meta.url));

/** Spawns the CLI and resolves with its JSON line and the child process. */
async function startCli(args) {
  const child = spawn(process.execPath, [CLI, 'start', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const lines = readline.createInterface({ input: child.stdout });
  const [first] = await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => { throw new Error(`CLI exited with ${code}: ${stderr}`); }),
  ]);
  return { ...JSON.parse(first), child, stop: async () => { child.kill('SIGTERM'); await once(child, 'exit'); } };
}

test('canisters, stable memory, controllers and the root key survive a restart', async (t) => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-replica-state-'));
  const controller = newIdentity(8);

  const first = await startCli(['--state', stateDir]);
  t.after(() => first.child.kill());
  assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(first.rootKey, /^308182301d060d2b0601040182dc7c05030102/);
  let agent = await newAgent(first.url, controller);
  const canisterId = await deploy(agent, wat2wasm(COUNTER_WAT), { arg: new Uint8Array(4) });
  let actor = Actor.createActor(counterIdl, { agent, canisterId });
  await actor.inc();
  for (let i = 0; i < 3; i++) await actor.stable_inc();
  await assert.rejects(actor.inc_both_then_trap()); // rolled back: must not reach the state files either
  assert.equal(fs.statSync(path.join(stateDir, 'canisters', canisterId.toText(), 'stable.bin')).size, 65536);
  await first.stop();

  const second = await startCli(['--state', stateDir]);
  t.after(() => second.child.kill());
  assert.equal(second.rootKey, first.rootKey);
  agent = await newAgent(second.url, controller);
  actor = Actor.createActor(counterIdl, { agent, canisterId });
  assert.equal(await actor.stable_get(), 3, 'stable memory was restored');
  assert.equal(await actor.stable_size(), 1n);
  assert.equal(await actor.get(), 0, 'the heap is not persisted');
  assert.equal(await actor.upgraded(), 1, 'post_upgrade ran on restart');
  assert.equal(await actor.init_arg_size(), 4, '... with the install argument');
  assert.equal(await actor.caller_is_controller(), true, 'controllers were restored');
  assert.equal(await actor.stable_inc(), 4);

  const { canister_id: next } = await managementActor(agent).provisional_create_canister_with_cycles({
    amount: [], settings: [], specified_id: [], sender_canister_version: [],
  });
  assert.notEqual(next.toText(), canisterId.toText(), 'the id sequence continues');
  await second.stop();

  const third = await startCli(['--state', stateDir]);
  t.after(() => third.child.kill());
  actor = Actor.createActor(counterIdl, { agent: await newAgent(third.url, controller), canisterId });
  assert.equal(await actor.stable_get(), 4);
  await third.stop();
});
