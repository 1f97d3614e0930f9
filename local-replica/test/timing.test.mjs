// IC timing (`icTiming`): rounds, slices, per-canister queues, concurrency between canisters, the synchronous
// call timeout and queries during a long update. Expected rounds are computed by hand from the model in
// src/ic-timing.mjs: a message received in round a starts in round a + 1 (or when its canister is free), runs
// ceil(N / slice) rounds, and is certified at the end of the round after the one it finished in.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import { pollForResponse } from '@icp-sdk/core/agent';
import { startTestReplica, newAgent, newIdentity, deploy, wat2wasm, Actor, managementActor } from '../testing/helpers.mjs';
import { BURN_WAT, burnIdl } from '../testing/canisters.mjs';

const SLICE = 1_000_000;
// burn(n) costs 7 instructions per iteration plus under 2,000 for arguments and reply (see BURN_WAT):
const SHORT = 100; //           ~2.3 k instructions: 1 slice
const THREE_SLICES = 400_000; // 2.80 M: 3 slices
const SEVEN_SLICES = 990_000; // 6.93 M: 7 slices

async function setup(timing, options = {}) {
  const running = await startTestReplica({ icTiming: { instructionsPerSlice: SLICE, timeScale: 0.02, ...timing }, ...options });
  const agent = await newAgent(running.url, newIdentity());
  const wasm = wat2wasm(BURN_WAT);
  const [x, y] = [await deploy(agent, wasm), await deploy(agent, wasm)];
  return { ...running, agent, x, y };
}

const caller = newIdentity().getPrincipal().toUint8Array();

/** The ingress message burn(n) to `canister`. */
const burnCall = (canister, n) => ({
  canisterId: Principal.from(canister).toUint8Array(),
  method: 'burn',
  arg: new Uint8Array(IDL.encode([IDL.Nat32], [n])),
  caller,
  requestId: crypto.randomBytes(32),
});

/**
 * Submits the messages directly (no HTTP) in one go and returns the round they arrived in (as the replica
 * recorded it) and their certified records.
 */
async function submit(replica, messages) {
  const records = await Promise.all(messages.map((message) => replica.submitUpdate(message)));
  const rounds = records.map((record) => Math.floor(record.receivedAt));
  assert.ok(rounds.every((r) => r === rounds[0]), `submitted together, received in rounds ${rounds}`);
  return { round: rounds[0], records };
}

const order = (record) => IDL.decode([IDL.Nat32], record.reply)[0];

test('a message of N instructions is certified 1 + ceil(N / slice) + 1 rounds after the round it arrived in', async () => {
  const { replica, x, close } = await setup();
  try {
    const { round: a, records: [short] } = await submit(replica, [burnCall(x, SHORT)]);
    assert.equal(short.certifiedAt, a + 1 + 1 + 1); // starts a+1, finishes a+1, certified at the end of a+2
    const { round: b, records: [long] } = await submit(replica, [burnCall(x, THREE_SLICES)]);
    const { instructions } = replica.messages.findLast((m) => m.method === 'burn');
    assert.ok(instructions > 7 * THREE_SLICES && instructions < 7 * THREE_SLICES + 2000, `${instructions}`);
    assert.equal(long.certifiedAt, b + 1 + 3 + 1); // runs in b+1..b+3, certified at the end of b+4
    assert.ok(replica.timing.seconds() >= long.certifiedAt);
  } finally {
    await close();
  }
});

test('with an instruction scale of k every instruction counts k times: slices, the limit, the performance counter', async () => {
  const k = 8;
  const { replica, agent, x, close } = await setup({ instructionScale: k }, { maxUpdateInstructions: 10_000_000 });
  try {
    // 7 × 50,000 metered instructions count as 2.8 M: 3 slices of 1 M
    const { round: a, records: [scaled] } = await submit(replica, [burnCall(x, 50_000)]);
    assert.equal(scaled.certifiedAt, a + 1 + 3 + 1);
    const { instructions } = replica.messages.findLast((m) => m.method === 'burn');
    assert.ok(instructions > k * 7 * 50_000 && instructions < k * (7 * 50_000 + 2000), `${instructions}`);
    const actor = Actor.createActor(burnIdl, { agent, canisterId: x });
    const counted = Number(await actor.burn_counted(50_000));
    assert.ok(counted > k * 7 * 50_000 && counted < k * (7 * 50_000 + 2000), `${counted}`);
    // 1.4 M metered instructions are 11.2 M counted: over the 10 M limit
    const { records: [over, within] } = await submit(replica, [burnCall(x, 200_000), burnCall(x, 100_000)]);
    assert.equal(over.errorCode, 'IC0522');
    assert.match(over.rejectMessage, /exceeded the limit of 10000000 instructions/);
    assert.equal(order(within), 2); // 5.6 M counted: within it
  } finally {
    await close();
  }
});

test("one canister's queue is served in order, each message after the previous one", async () => {
  const { replica, x, close } = await setup();
  try {
    const { round: a, records: replies } = await submit(replica, [burnCall(x, THREE_SLICES), burnCall(x, SHORT), burnCall(x, SHORT)]);
    assert.deepEqual(replies.map(order), [1, 2, 3]);
    // rounds a+1..a+3, then a+4, then a+5; each certified the round after
    assert.deepEqual(replies.map((r) => r.certifiedAt), [a + 5, a + 6, a + 7]);
    // the log of timed calls says which rounds each one executed in
    assert.deepEqual(replica.timedCalls.slice(-3).map((c) => c.rounds), [[a + 1, a + 3], [a + 4, a + 4], [a + 5, a + 5]]);
  } finally {
    await close();
  }
});

test("two canisters run concurrently: one's long message does not delay the other's", async () => {
  const { replica, x, y, close } = await setup();
  try {
    const { round: a, records: [longX, longY] } = await submit(replica, [burnCall(x, THREE_SLICES), burnCall(y, THREE_SLICES)]);
    assert.deepEqual([longX.certifiedAt, longY.certifiedAt], [a + 5, a + 5]);
    const { round: b, records: [sevenX, shortY] } = await submit(replica, [burnCall(x, SEVEN_SLICES), burnCall(y, SHORT)]);
    assert.equal(shortY.certifiedAt, b + 3);
    assert.equal(sevenX.certifiedAt, b + 1 + 7 + 1);
    assert.deepEqual([order(sevenX), order(shortY)], [2, 2]);
  } finally {
    await close();
  }
});

test('the clock goes on while a long message executes: each slice it uses up is reported', async () => {
  // 50 M instructions per slice: burn(695 M) costs 4.865 B, 98 slices, and takes V8 about a second
  const { replica, x, close } = await setup({ instructionsPerSlice: 50_000_000, timeScale: 0.005 });
  try {
    const long = replica.submitUpdate(burnCall(x, 695_000_000));
    const executing = () => replica.messages.findLast((m) => m.canister === x.toText() && m.method === 'burn') === undefined;
    let latest = -1;
    while (executing()) {
      latest = Math.max(latest, replica.timing.round());
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const record = await long;
    const arrived = Math.floor(record.receivedAt);
    // without the reports the clock would wait at arrived + 3 (the earliest a 1-slice message could be certified)
    assert.ok(latest >= arrived + 10, `the clock reached round ${latest - arrived} after the message arrived while it executed`);
    assert.equal(record.certifiedAt, arrived + 1 + 98 + 1);
  } finally {
    await close();
  }
});

test('a canister deleted while its update executes: the call is rejected, the replica and its clock go on', async () => {
  const { replica, agent, x, y, close } = await setup({ instructionsPerSlice: 50_000_000, timeScale: 0.005 });
  try {
    const long = replica.submitUpdate(burnCall(x, 695_000_000)); // about a second of V8
    const mgmt = managementActor(agent);
    await mgmt.stop_canister({ canister_id: x });
    await mgmt.delete_canister({ canister_id: x });
    const record = await long;
    assert.equal(record.status, 'rejected');
    assert.match(record.rejectMessage, /could not execute the message: the update worker of .* stopped/);
    assert.equal(replica.timing.executing.size, 0);
    const { round: b, records: [short] } = await submit(replica, [burnCall(y, SHORT)]);
    assert.equal(short.certifiedAt, b + 3);
  } finally {
    await close();
  }
});

test('a v3 call answers 202 past the synchronous timeout, and the agent gets the reply by polling read_state', async () => {
  const { agent, x, close } = await setup({ syncCallTimeoutSeconds: 4, timeScale: 0.1 });
  try {
    const call = (n) => agent.call(x, { methodName: 'burn', arg: IDL.encode([IDL.Nat32], [n]), effectiveCanisterId: x });
    const quick = await call(SHORT); // certified about 2.5 rounds after it arrives: within the timeout
    assert.equal(quick.response.status, 200);
    const slow = await call(SEVEN_SLICES); // about 9.5 rounds: past it
    assert.equal(slow.response.status, 202);
    assert.equal(slow.response.body, null);
    const { reply } = await pollForResponse(agent, x, slow.requestId);
    assert.equal(IDL.decode([IDL.Nat32], reply)[0], 2);
    // the actor (v4 call, then polling) sees the same
    const actor = Actor.createActor(burnIdl, { agent, canisterId: x });
    assert.equal(await actor.burn(SEVEN_SLICES), 3);
  } finally {
    await close();
  }
});

test('a query answers at once from the last committed state while a long update executes', async () => {
  // real IC slices, so the update takes a few seconds of real execution
  const { replica, agent, x, close } = await setup({ instructionsPerSlice: 2_000_000_000, timeScale: 0.1 });
  try {
    const actor = Actor.createActor(burnIdl, { agent, canisterId: x });
    const update = actor.burn(1_400_000_000); // 9.8 B instructions
    const executing = () => replica.messages.findLast((m) => m.method === 'burn') === undefined
      && [...replica.requests.values()].some((r) => r.status === 'processing');
    while (!executing()) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = performance.now();
    assert.equal(await actor.count(), 0);
    const ms = performance.now() - started;
    assert.ok(executing(), 'the update was still executing when the query answered');
    assert.ok(ms < 1000, `the query took ${ms} ms`);
    assert.equal(await update, 1);
    assert.equal(await actor.count(), 1); // the committed update is visible to queries
  } finally {
    await close();
  }
});
