// Instruction metering: counts must equal hand-computed sums of the IC's cost
// table (src/instruction-costs.mjs, from instrumentation.rs), and limits stop
// runaway messages with the IC's error.
//
// Reminders of the IC's rules used below:
//  * a function entry starts an injection point with cost 1;
//  * `loop` starts a new (checked) point, `if` a new point, and `else`, `br`,
//    `br_if`, `br_table`, `end`, `return`, `unreachable` end the current one;
//    `block` is not a boundary; each point is charged in full when entered;
//  * costs: const/local/drop/i32.add 1, br/br_if/if 2, call 5, i64.div_s 10,
//    f32x4.add/mul 2, f32x4.splat 1, v128.const 1, memory.fill 100 + n bytes;
//  * system calls: msg_arg_data_size 500, msg_arg_data_copy 500 + n,
//    stable64_grow 500, stable64_write 20 + n + 1000 per newly dirtied 4 KiB
//    page, performance_counter 200 (charged before it reads the counter).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { IDL } from '@icp-sdk/core/candid';
import { wat2wasm, startTestReplica, newIdentity, newAgent, deploy, Actor } from '../testing/helpers.mjs';
import { COUNTER_WAT, METERING_WAT, counterIdl } from '../testing/canisters.mjs';

const meteringIdl = ({ IDL: idl }) => idl.Service({
  straight: idl.Func([], [], []),
  loop10: idl.Func([], [], []),
  blocks: idl.Func([], [], []),
  call: idl.Func([], [], []),
  fill: idl.Func([], [], []),
  div: idl.Func([], [], []),
  simd: idl.Func([], [], []),
  argcopy: idl.Func([idl.Vec(idl.Nat8)], [], []),
  stable_write: idl.Func([], [], []),
  perf: idl.Func([], [idl.Nat64], ['query']),
});

let replica;
let agent;
let metering;

before(async () => {
  replica = await startTestReplica({ maxUpdateInstructions: 50_000_000, maxQueryInstructions: 20_000_000 });
  agent = await newAgent(replica.url, newIdentity(2));
  metering = Actor.createActor(meteringIdl, { agent, canisterId: await deploy(agent, wat2wasm(METERING_WAT)) });
});
after(() => replica.close());

/** Calls an update that does not reply and returns its logged instruction count. */
async function instructionsOf(method, ...args) {
  await assert.rejects(metering[method](...args), /did not reply/);
  const entry = replica.replica.messages.filter((m) => m.method === method && m.kind === 'update').at(-1);
  return entry.instructions;
}

test('straight-line code', async () => {
  // entry 1 + (i32.const 1 + i32.const 1 + i32.add 1 + drop 1) + (i64.const 1 + i64.const 1 + i64.mul 1 + drop 1)
  assert.equal(await instructionsOf('straight'), 1 + 4 + 4);
});

test('a loop with a known trip count', async () => {
  // entry point: 1 + i32.const 1 + local.set 1 + loop 0 = 3
  // loop body point, 10 times: local.get 1 + i32.const 1 + i32.sub 1 + local.set 1 + local.get 1 + br_if 2 = 7
  // after br_if: end 0 + end 0 = 0 (dropped)
  assert.equal(await instructionsOf('loop10'), 3 + 10 * 7);
});

test('nested blocks with br_if and br', async () => {
  // entry: 1 + const 1 + set 1 + block 0 + block 0 + local.get 1 + i32.eqz 1 + br_if 2 = 7 (br_if not taken)
  // next point: i32.const 1 + local.set 1 + br 2 = 4, jumping past both blocks
  // skipped: the point after the inner `end` (i32.const 1 + local.set 1 = 2)
  // after the outer `end`: local.get 1 + drop 1 = 2
  assert.equal(await instructionsOf('blocks'), 7 + 4 + 2);
});

test('a call', async () => {
  // caller: entry 1 + i32.const 1 + call 5 + drop 1 = 8; callee: entry 1 + local.get 1 + i32.const 1 + i32.add 1 = 4
  assert.equal(await instructionsOf('call'), 8 + 4);
});

test('memory.fill of n bytes', async () => {
  // entry 1 + 3 × i32.const 1 + memory.fill 100 (static) + 1000 bytes (dynamic)
  assert.equal(await instructionsOf('fill'), 1 + 3 + 100 + 1000);
});

test('an i64 division', async () => {
  // entry 1 + i64.const 1 + i64.const 1 + i64.div_s 10 + drop 1
  assert.equal(await instructionsOf('div'), 1 + 1 + 1 + 10 + 1);
});

test('f32x4 SIMD operations', async () => {
  // entry 1 + v128.const 1 + v128.const 1 + f32x4.add 2 + f32.const 1 + f32x4.splat 1 + f32x4.mul 2 + drop 1
  assert.equal(await instructionsOf('simd'), 1 + 1 + 1 + 2 + 1 + 1 + 2 + 1);
});

test('msg_arg_data_copy of n bytes', async () => {
  const blob = new Uint8Array(3000);
  const n = IDL.encode([IDL.Vec(IDL.Nat8)], [blob]).length; // the Candid argument the canister copies
  // Wasm: entry 1 + i32.const 1 + i32.const 1 + call 5 (msg_arg_data_size) + call 5 (msg_arg_data_copy) = 13
  // System API: msg_arg_data_size 500 + msg_arg_data_copy 500 + n
  assert.equal(await instructionsOf('argcopy', blob), 13 + 500 + 500 + n);
});

test('stable64_write of 5000 bytes pays for 2 newly dirtied pages', async () => {
  // Wasm: entry 1 + (i64.const 1 + call 5 + drop 1) + (3 × i64.const 1 + call 5) = 16
  // System API: stable64_grow 500 + stable64_write (20 + 5000 + 2 pages × 1000)
  const expected = 16 + 500 + 20 + 5000 + 2 * 1000;
  assert.equal(await instructionsOf('stable_write'), expected);
  assert.equal(await instructionsOf('stable_write'), expected, 'dirty pages are counted per message');
});

test('performance_counter(0) includes the current block and its own fee', async () => {
  // the entry point is charged up front: 1 + i32.const 1 + call 5 (performance_counter) + call 5 ($reply_nat64);
  // then the 200 fee of performance_counter is charged before the counter is read
  assert.equal(await metering.perf(), BigInt(1 + 1 + 5 + 5 + 200));
});

test('the message log is served as JSON at GET /_/messages', async () => {
  const log = await (await fetch(`${replica.url}/_/messages`)).json();
  const entry = log.find((m) => m.method === 'straight');
  assert.deepEqual(Object.keys(entry).sort(), ['canister', 'error', 'instructions', 'kind', 'method', 'ms', 'outcome'].sort());
  assert.equal(entry.instructions, 9);
  assert.equal(entry.kind, 'update');
  assert.equal(entry.outcome, 'no-reply');
});

test('infinite loops stop at the configured limits with the IC error', async () => {
  const actor = Actor.createActor(counterIdl, { agent, canisterId: await deploy(agent, wat2wasm(COUNTER_WAT)) });
  await actor.inc();
  await assert.rejects(actor.spin(), (e) => /IC0522/.test(e.message)
    && /Canister exceeded the limit of 50000000 instructions for single message execution\./.test(e.message));
  await assert.rejects(actor.spin_query(), /Canister exceeded the limit of 20000000 instructions for single message execution\./);
  assert.equal(await actor.get(), 1, 'the failed update was rolled back');
  const entry = replica.replica.messages.filter((m) => m.method === 'spin').at(-1);
  assert.equal(entry.outcome, 'trap');
  assert.ok(entry.instructions >= 50_000_000 && entry.instructions <= 50_000_010);
});

test('the real limits: 5 B instructions per query, 40 B per update', async (t) => {
  const real = await startTestReplica();
  t.after(() => real.close());
  assert.equal(real.replica.options.maxUpdateInstructions, 40_000_000_000);
  assert.equal(real.replica.options.maxInstallInstructions, 300_000_000_000);
  assert.equal(real.replica.options.maxInspectInstructions, 200_000_000);
  const realAgent = await newAgent(real.url, newIdentity(2));
  const actor = Actor.createActor(counterIdl, { agent: realAgent, canisterId: await deploy(realAgent, wat2wasm(COUNTER_WAT)) });
  let started = Date.now();
  await assert.rejects(actor.spin_query(), /Canister exceeded the limit of 5000000000 instructions for single message execution\./);
  t.diagnostic(`5 B instructions of \`loop br\` took ${Date.now() - started} ms`);
  started = Date.now();
  await assert.rejects(actor.spin(), /Canister exceeded the limit of 40000000000 instructions for single message execution\./);
  t.diagnostic(`40 B instructions of \`loop br\` took ${Date.now() - started} ms`);
});
