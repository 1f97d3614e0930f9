// The cycles ledger and cycles minting canister that icp-cli uses on a connected network, and the management
// canister's settings, through the official agent. The ledger's types here are written from dfinity/cycles-ledger
// `cycles-ledger.did` (the subset called), independently of src/system-canisters.mjs.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Principal } from '@icp-sdk/core/principal';
import { Actor, IDL, managementActor, newAgent, newIdentity, startTestReplica } from '../testing/helpers.mjs';

const CMC = 'rkp4c-7iaaa-aaaaa-aaaca-cai';
const LEDGER = 'um5iw-rqaaa-aaaaq-qaaba-cai';
const T = 1_000_000_000_000n;
const FEE = 100_000_000n;

const ledgerIdl = ({ IDL: idl }) => {
  const Account = idl.Record({ owner: idl.Principal, subaccount: idl.Opt(idl.Vec(idl.Nat8)) });
  const Settings = idl.Record({
    controllers: idl.Opt(idl.Vec(idl.Principal)),
    compute_allocation: idl.Opt(idl.Nat),
    memory_allocation: idl.Opt(idl.Nat),
    freezing_threshold: idl.Opt(idl.Nat),
    reserved_cycles_limit: idl.Opt(idl.Nat),
  });
  const CreateError = idl.Variant({
    InsufficientFunds: idl.Record({ balance: idl.Nat }),
    TooOld: idl.Null,
    CreatedInFuture: idl.Record({ ledger_time: idl.Nat64 }),
    TemporarilyUnavailable: idl.Null,
    Duplicate: idl.Record({ duplicate_of: idl.Nat, canister_id: idl.Opt(idl.Principal) }),
    FailedToCreate: idl.Record({ fee_block: idl.Opt(idl.Nat), refund_block: idl.Opt(idl.Nat), error: idl.Text }),
    GenericError: idl.Record({ message: idl.Text, error_code: idl.Nat }),
  });
  return idl.Service({
    icrc1_balance_of: idl.Func([Account], [idl.Nat], ['query']),
    icrc1_fee: idl.Func([], [idl.Nat], ['query']),
    create_canister: idl.Func([idl.Record({
      from_subaccount: idl.Opt(idl.Vec(idl.Nat8)),
      created_at_time: idl.Opt(idl.Nat64),
      amount: idl.Nat,
      creation_args: idl.Opt(idl.Record({
        settings: idl.Opt(Settings),
        subnet_selection: idl.Opt(idl.Variant({ Subnet: idl.Record({ subnet: idl.Principal }), Filter: idl.Record({ subnet_type: idl.Opt(idl.Text) }) })),
      })),
    })], [idl.Variant({ Ok: idl.Record({ block_id: idl.Nat, canister_id: idl.Principal }), Err: CreateError })], []),
    withdraw: idl.Func([idl.Record({
      amount: idl.Nat, from_subaccount: idl.Opt(idl.Vec(idl.Nat8)), to: idl.Principal, created_at_time: idl.Opt(idl.Nat64),
    })], [idl.Variant({ Ok: idl.Nat, Err: idl.Variant({ InsufficientFunds: idl.Record({ balance: idl.Nat }), InvalidReceiver: idl.Record({ receiver: idl.Principal }) }) })], []),
  });
};
const cmcIdl = ({ IDL: idl }) => idl.Service({ get_default_subnets: idl.Func([], [idl.Vec(idl.Principal)], ['query']) });

const createArgs = (amount, { subnet, settings } = {}) => ({
  from_subaccount: [], created_at_time: [], amount,
  creation_args: [{ settings: settings ? [settings] : [], subnet_selection: subnet ? [{ Subnet: { subnet } }] : [] }],
});
const noSettings = {
  controllers: [], compute_allocation: [], memory_allocation: [], freezing_threshold: [], reserved_cycles_limit: [],
};

let node;
let agent;
let ledger;
let identity;

before(async () => {
  node = await startTestReplica({ port: 0 });
  identity = newIdentity(21);
  agent = await newAgent(node.url, identity);
  ledger = Actor.createActor(ledgerIdl, { agent, canisterId: LEDGER });
});

after(async () => {
  await node?.close();
});

const balance = (owner = identity.getPrincipal()) => ledger.icrc1_balance_of({ owner, subaccount: [] });

test('the CMC names the replica\'s subnet; the ledger creates a canister there for its caller and charges amount + fee', async () => {
  const [subnet] = await Actor.createActor(cmcIdl, { agent, canisterId: CMC }).get_default_subnets();
  assert.equal(subnet.toText(), node.replica.keys.subnetId.toText());
  assert.equal(await ledger.icrc1_fee(), FEE);
  const before = await balance();
  assert.ok(before >= 100n * T, `every identity starts with cycles (${before})`);
  const created = await ledger.create_canister(createArgs(3n * T, { subnet }));
  assert.ok('Ok' in created, JSON.stringify(created, (_, v) => (typeof v === 'bigint' ? `${v}` : v)));
  const id = created.Ok.canister_id;
  assert.equal(await balance(), before - 3n * T - FEE);
  const status = await managementActor(agent).canister_status({ canister_id: id });
  assert.equal(status.cycles, 3n * T);
  assert.deepEqual(status.settings.controllers.map((p) => p.toText()), [identity.getPrincipal().toText()]);
  // Another identity has its own, untouched balance.
  assert.equal(await balance(newIdentity(22).getPrincipal()), before);
});

test('failed creations charge nothing and create nothing: too few cycles, an unknown subnet, a bad setting', async () => {
  const before = await balance();
  const canisters = node.replica.canisters.size;
  const tooMuch = await ledger.create_canister(createArgs(before));
  assert.deepEqual(tooMuch, { Err: { InsufficientFunds: { balance: before } } });
  const elsewhere = await ledger.create_canister(createArgs(T, { subnet: Principal.fromText('aaaaa-aa') }));
  assert.match(elsewhere.Err.FailedToCreate.error, /does not exist/);
  const badSetting = await ledger.create_canister(createArgs(T, { settings: { ...noSettings, compute_allocation: [101n] } }));
  assert.match(badSetting.Err.FailedToCreate.error, /compute_allocation must be at most 100/);
  assert.equal(await balance(), before);
  assert.equal(node.replica.canisters.size, canisters);
});

test('withdraw tops up a canister from the caller\'s balance', async () => {
  const { Ok: { canister_id: id } } = await ledger.create_canister(createArgs(T));
  const before = await balance();
  assert.deepEqual(await ledger.withdraw({ amount: 5n * T, from_subaccount: [], to: id, created_at_time: [] }), { Ok: 2n });
  assert.equal(await balance(), before - 5n * T - FEE);
  assert.equal((await managementActor(agent).canister_status({ canister_id: id })).cycles, 6n * T);
  const nobody = Principal.fromText('aaaaa-aa');
  assert.deepEqual(await ledger.withdraw({ amount: T, from_subaccount: [], to: nobody, created_at_time: [] }), { Err: { InvalidReceiver: { receiver: nobody } } });
  assert.equal(await balance(), before - 5n * T - FEE);
});

test('update_settings stores settings, refuses a bad one without changing any, and status_visibility opens canister_status', async () => {
  const mgmt = managementActor(agent);
  const { Ok: { canister_id: id } } = await ledger.create_canister(createArgs(T));
  const settings = (overrides) => ({
    controllers: [], compute_allocation: [], memory_allocation: [], freezing_threshold: [], reserved_cycles_limit: [],
    log_visibility: [], snapshot_visibility: [], status_visibility: [], log_memory_limit: [], wasm_memory_limit: [],
    wasm_memory_threshold: [], minimum_incoming_canister_call_cycles: [], environment_variables: [], ...overrides,
  });
  await mgmt.update_settings({ canister_id: id, settings: settings({ wasm_memory_limit: [2n ** 31n], freezing_threshold: [86_400n] }), sender_canister_version: [] });
  let status = await mgmt.canister_status({ canister_id: id });
  assert.equal(status.settings.wasm_memory_limit, 2n ** 31n);
  assert.equal(status.settings.freezing_threshold, 86_400n);
  assert.equal(status.settings.compute_allocation, 0n);

  await assert.rejects(mgmt.update_settings({
    canister_id: id, settings: settings({ freezing_threshold: [1n], wasm_memory_limit: [2n ** 49n] }), sender_canister_version: [],
  }), /wasm_memory_limit must be at most/);
  const tooMany = Array.from({ length: 21 }, (_, i) => ({ name: `V${i}`, value: 'x' }));
  await assert.rejects(mgmt.update_settings({ canister_id: id, settings: settings({ environment_variables: [tooMany] }), sender_canister_version: [] }), /at most 20 environment variables/);
  status = await mgmt.canister_status({ canister_id: id });
  assert.equal(status.settings.freezing_threshold, 86_400n, 'a refused update changes nothing');
  assert.deepEqual(status.settings.environment_variables, []);

  const stranger = managementActor(await newAgent(node.url, newIdentity(23)));
  await assert.rejects(stranger.canister_status({ canister_id: id }), /IC0512/);
  await mgmt.update_settings({ canister_id: id, settings: settings({ status_visibility: [{ public: null }] }), sender_canister_version: [] });
  assert.equal((await stranger.canister_status({ canister_id: id })).cycles, T);
});

test('canister_status reports memory and the idle cost the IC would charge for it', async () => {
  const { Ok: { canister_id: id } } = await ledger.create_canister(createArgs(T));
  const status = await managementActor(agent).canister_status({ canister_id: id });
  const metrics = status.memory_metrics;
  assert.equal(status.memory_size, Object.values(metrics).reduce((a, b) => a + b, 0n));
  // 127,000 cycles per GiB per second on a 13-node subnet.
  assert.equal(status.idle_cycles_burned_per_day, (status.memory_size * 127_000n * 86_400n) / 2n ** 30n);
  assert.equal(status.ready_for_migration, false);
});

test('settings and cycles survive a restart of a replica with --state', async () => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'replica-state-'));
  try {
    let persisted = await startTestReplica({ port: 0, stateDir });
    let mgmt = managementActor(await newAgent(persisted.url, identity));
    const persistedLedger = Actor.createActor(ledgerIdl, { agent: await newAgent(persisted.url, identity), canisterId: LEDGER });
    const { Ok: { canister_id: id } } = await persistedLedger.create_canister(createArgs(7n * T));
    await mgmt.update_settings({
      canister_id: id,
      settings: { ...noSettings, log_visibility: [], snapshot_visibility: [], status_visibility: [{ allowed_viewers: [newIdentity(24).getPrincipal()] }], log_memory_limit: [], wasm_memory_limit: [2n ** 30n], wasm_memory_threshold: [], minimum_incoming_canister_call_cycles: [], environment_variables: [] },
      sender_canister_version: [],
    });
    await persisted.close();
    persisted = await startTestReplica({ port: 0, stateDir });
    mgmt = managementActor(await newAgent(persisted.url, identity));
    const status = await mgmt.canister_status({ canister_id: id });
    assert.equal(status.cycles, 7n * T);
    assert.equal(status.settings.wasm_memory_limit, 2n ** 30n);
    assert.equal(status.settings.status_visibility.allowed_viewers[0].toText(), newIdentity(24).getPrincipal().toText());
    await persisted.close();
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});
