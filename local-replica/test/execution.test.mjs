// Message semantics, install/upgrade and the management canister, driven
// through the official agent.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { sha256 } from '@noble/hashes/sha2.js';
import { wat2wasm, startTestReplica, newIdentity, newAgent, managementActor, deploy, Actor } from '../testing/helpers.mjs';
import { COUNTER_WAT, counterIdl } from '../testing/canisters.mjs';

let replica;
let controller;
let agent;
let wasm;

before(async () => {
  replica = await startTestReplica();
  controller = newIdentity(1);
  agent = await newAgent(replica.url, controller);
  wasm = wat2wasm(COUNTER_WAT);
});
after(() => replica.close());

async function freshCanister(options) {
  const canisterId = await deploy(agent, wasm, options);
  return { canisterId, actor: Actor.createActor(counterIdl, { agent, canisterId }) };
}

test('install runs canister_init with the argument; updates and queries speak Candid', async () => {
  const { canisterId, actor } = await freshCanister({ arg: new Uint8Array([1, 2, 3]) });
  assert.match(canisterId.toText(), /-cai$/);
  assert.equal(await actor.init_arg_size(), 3);
  assert.equal(await actor.inc(), 1);
  assert.equal(await actor.inc(), 2);
  assert.equal(await actor.get(), 2);
  assert.equal((await actor.whoami()).toText(), controller.getPrincipal().toText());
  assert.equal(await actor.caller_is_controller(), true);
  assert.deepEqual(await actor.echo(new Uint8Array([9, 8, 7])), new Uint8Array([9, 8, 7]));
});

test('a trapping update leaves heap, globals, heap size and stable memory exactly as before', async () => {
  const { actor } = await freshCanister();
  await actor.inc();
  await actor.stable_inc();
  const before = { heap: await actor.get(), stable: await actor.stable_get(), pages: await actor.stable_size(), heapPages: await actor.heap_pages() };
  // increments both counters, grows stable memory by 3 pages and the heap by 1 page, then traps
  await assert.rejects(actor.inc_both_then_trap(), /IC0503[\s\S]*|Canister called `ic0.trap` with message: 'boom'/);
  await assert.rejects(actor.inc_then_unreachable(), /Canister trapped: unreachable/);
  assert.deepEqual({ heap: await actor.get(), stable: await actor.stable_get(), pages: await actor.stable_size(), heapPages: await actor.heap_pages() }, before);
  assert.equal(await actor.inc(), before.heap + 1, 'the canister keeps working after a rollback');
});

test('a query cannot change state', async () => {
  const { actor } = await freshCanister();
  await actor.inc();
  assert.equal(await actor.inc_in_query(), 2, 'the query sees its own change');
  assert.equal(await actor.inc_in_query(), 2, 'but it was discarded');
  assert.equal(await actor.get(), 1);
});

test('reply/reject rules: reject, missing reply, double reply', async () => {
  const { actor } = await freshCanister();
  await assert.rejects(actor.reject(), (e) => /Reject code: 4/.test(e.message) && /nope/.test(e.message));
  await assert.rejects(actor.no_reply(), (e) => /IC0506/.test(e.message) && /did not reply/.test(e.message));
  assert.equal(await actor.get(), 1, 'an update without reply still commits its changes');
  await assert.rejects(actor.reply_twice(), (e) => /IC0504/.test(e.message) && /already replied/.test(e.message));
});

test('canister_inspect_message can refuse ingress messages', async () => {
  const { actor } = await freshCanister();
  await assert.rejects(actor.blocked(), (e) => /IC0406/.test(e.message) && /rejected the message/.test(e.message));
  const log = replica.replica.messages.filter((m) => m.method === 'blocked');
  assert.deepEqual(log.map((m) => [m.kind, m.outcome]), [['inspect_message', 'rejected']]);
});

test('upgrade keeps stable memory, clears the heap and runs post_upgrade; a failed upgrade changes nothing', async () => {
  const { canisterId, actor } = await freshCanister();
  await actor.inc();
  await actor.inc();
  await actor.stable_inc();
  const mgmt = managementActor(agent);
  await mgmt.install_code({ mode: { upgrade: [] }, canister_id: canisterId, wasm_module: wasm, arg: new Uint8Array(5), sender_canister_version: [] });
  assert.equal(await actor.get(), 0, 'heap was discarded');
  assert.equal(await actor.upgraded(), 1, 'post_upgrade ran');
  assert.equal(await actor.init_arg_size(), 5, 'post_upgrade received the upgrade argument');
  assert.equal(await actor.stable_get(), 1, 'stable memory was kept');

  // An upgrade whose post_upgrade traps is rolled back entirely.
  await actor.inc();
  const trapping = wat2wasm(COUNTER_WAT.replace('(func (export "canister_post_upgrade")', '(func (export "canister_post_upgrade") unreachable) (func $unused'));
  await assert.rejects(
    mgmt.install_code({ mode: { upgrade: [] }, canister_id: canisterId, wasm_module: trapping, arg: new Uint8Array(0), sender_canister_version: [] }),
    /Canister trapped: unreachable/,
  );
  assert.equal(await actor.get(), 1);
  assert.equal(await actor.stable_get(), 1);
  const status = await mgmt.canister_status({ canister_id: canisterId });
  assert.deepEqual(status.module_hash[0], sha256(wasm));

  // reinstall clears stable memory too
  await mgmt.install_code({ mode: { reinstall: null }, canister_id: canisterId, wasm_module: wasm, arg: new Uint8Array(2), sender_canister_version: [] });
  assert.equal(await actor.stable_get(), 0);
  assert.equal(await actor.init_arg_size(), 2);
  assert.equal(await actor.upgraded(), 0);
});

test('only controllers may install code or change settings', async () => {
  const { canisterId, actor } = await freshCanister();
  const stranger = await newAgent(replica.url, newIdentity(7));
  const mgmt = managementActor(stranger);
  await assert.rejects(
    mgmt.install_code({ mode: { reinstall: null }, canister_id: canisterId, wasm_module: wasm, arg: new Uint8Array(0), sender_canister_version: [] }),
    (e) => /IC0512/.test(e.message) && /Only the controllers of the canister/.test(e.message),
  );
  await assert.rejects(mgmt.update_settings({ canister_id: canisterId, settings: emptySettings({ controllers: [[newIdentity(7).getPrincipal()]] }), sender_canister_version: [] }), /IC0512/);
  const strangerActor = Actor.createActor(counterIdl, { agent: stranger, canisterId });
  assert.equal(await strangerActor.caller_is_controller(), false);

  // The controller hands control to the stranger.
  await managementActor(agent).update_settings({ canister_id: canisterId, settings: emptySettings({ controllers: [[newIdentity(7).getPrincipal()]] }), sender_canister_version: [] });
  assert.equal(await strangerActor.caller_is_controller(), true);
  assert.equal(await actor.caller_is_controller(), false);
});

test('an argument over the 2 MiB ingress limit is rejected', async () => {
  const { actor } = await freshCanister();
  await assert.rejects(actor.echo(new Uint8Array(2 * 1024 * 1024 + 1)), /413|too large|exceeds/i);
  assert.deepEqual(await actor.echo(new Uint8Array(10)), new Uint8Array(10));
});

test('invalid modules fail installation like on the IC', async () => {
  const mgmt = managementActor(agent);
  const { canister_id: canisterId } = await mgmt.provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [], sender_canister_version: [] });
  const install = (bytes) => mgmt.install_code({ mode: { install: null }, canister_id: canisterId, wasm_module: bytes, arg: new Uint8Array(0), sender_canister_version: [] });
  await assert.rejects(install(wat2wasm('(module (import "env" "foo" (func)))')), /Module imports function 'foo' from 'env' that is not exported by the runtime/);
  await assert.rejects(install(wat2wasm('(module (import "ic0" "msg_reply" (func (param i32))))')), /incorrect signature/);
  await assert.rejects(install(wat2wasm('(module (import "env" "g" (global i32)))')), /imported globals are not allowed/);
  await assert.rejects(install(wat2wasm('(module (func (export "canister_foo")))')), /reserved function 'canister_foo'/);
  await assert.rejects(install(new Uint8Array([1, 2, 3])), /IC0505/);
  const status = await mgmt.canister_status({ canister_id: canisterId });
  assert.deepEqual(status.module_hash, []);
});

test('gzip-compressed and chunked modules install; start and stop', async () => {
  const mgmt = managementActor(agent);
  const create = async () => (await mgmt.provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [], sender_canister_version: [] })).canister_id;
  const gzipped = await create();
  await mgmt.install_code({ mode: { install: null }, canister_id: gzipped, wasm_module: new Uint8Array(gzipSync(wasm)), arg: new Uint8Array(0), sender_canister_version: [] });
  assert.equal(await Actor.createActor(counterIdl, { agent, canisterId: gzipped }).inc(), 1);

  const chunked = await create();
  const half = Math.floor(wasm.length / 2);
  const hashes = [];
  for (const part of [wasm.subarray(0, half), wasm.subarray(half)]) hashes.push(await mgmt.upload_chunk({ canister_id: chunked, chunk: part }));
  assert.equal((await mgmt.stored_chunks({ canister_id: chunked })).length, 2);
  await mgmt.install_chunked_code({
    mode: { install: null }, target_canister: chunked, store_canister: [], chunk_hashes_list: hashes,
    wasm_module_hash: sha256(wasm), arg: new Uint8Array(0), sender_canister_version: [],
  });
  const actor = Actor.createActor(counterIdl, { agent, canisterId: chunked });
  assert.equal(await actor.inc(), 1);

  await mgmt.stop_canister({ canister_id: chunked });
  assert.deepEqual((await mgmt.canister_status({ canister_id: chunked })).status, { stopped: null });
  await assert.rejects(actor.inc(), /IC0508/);
  await mgmt.start_canister({ canister_id: chunked });
  assert.equal(await actor.inc(), 2);
});

test('provisional_create_canister_with_cycles accepts specified_id and settings.controllers', async () => {
  const mgmt = managementActor(agent);
  const other = newIdentity(9).getPrincipal();
  const wanted = (await import('@icp-sdk/core/principal')).Principal.fromText('rrkah-fqaaa-aaaaa-aaaaq-cai');
  const { canister_id: id } = await mgmt.provisional_create_canister_with_cycles({
    amount: [], settings: [emptySettings({ controllers: [[controller.getPrincipal(), other]] })], specified_id: [wanted], sender_canister_version: [],
  });
  assert.equal(id.toText(), 'rrkah-fqaaa-aaaaa-aaaaq-cai');
  const status = await mgmt.canister_status({ canister_id: id });
  assert.deepEqual(status.settings.controllers.map((p) => p.toText()), [controller.getPrincipal().toText(), other.toText()]);
});

function emptySettings(overrides) {
  return {
    controllers: [], compute_allocation: [], memory_allocation: [], freezing_threshold: [], reserved_cycles_limit: [],
    log_visibility: [], snapshot_visibility: [], status_visibility: [], log_memory_limit: [], wasm_memory_limit: [],
    wasm_memory_threshold: [], minimum_incoming_canister_call_cycles: [], environment_variables: [], ...overrides,
  };
}
