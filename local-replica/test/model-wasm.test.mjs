// Smoke test on the project's real TeaVM canister, when it has been built
// (model-canister/target/model.wasm); skipped otherwise.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IDL } from '@icp-sdk/core/candid';
import { startTestReplica, newIdentity, newAgent, deploy, managementActor, Actor } from '../testing/helpers.mjs';

const MODEL_WASM = fileURLToPath(new URL('../../model-canister/target/model.wasm', import.meta.url));

const modelIdl = ({ IDL: idl }) => idl.Service({
  status: idl.Func([], [idl.Record({ config_bytes: idl.Nat64, heap_bytes: idl.Nat64, stable_memory_bytes: idl.Nat64 })], ['query']),
  append_config_bytes: idl.Func([idl.Vec(idl.Nat8)], [], []),
  config_bytes_length: idl.Func([], [idl.Nat64], ['query']),
});

test('the real model.wasm installs, answers queries and updates, and keeps uploads across an upgrade',
  { skip: !fs.existsSync(MODEL_WASM) && 'model-canister/target/model.wasm is not built' }, async (t) => {
    const replica = await startTestReplica();
    t.after(() => replica.close());
    const agent = await newAgent(replica.url, newIdentity(11));
    const wasm = new Uint8Array(fs.readFileSync(MODEL_WASM));
    const canisterId = await deploy(agent, wasm, { arg: new Uint8Array(IDL.encode([], [])) });
    const model = Actor.createActor(modelIdl, { agent, canisterId });

    await model.append_config_bytes(new Uint8Array([123, 125, 10]));
    assert.equal(await model.config_bytes_length(), 3n);
    const status = await model.status();
    assert.equal(status.config_bytes, 3n);

    await managementActor(agent).install_code({
      mode: { upgrade: [] }, canister_id: canisterId, wasm_module: wasm, arg: new Uint8Array(IDL.encode([], [])), sender_canister_version: [],
    });
    assert.equal(await model.config_bytes_length(), 3n, 'uploaded bytes live in stable memory');
    for (const m of replica.replica.messages) t.diagnostic(`${m.kind} ${m.method}: ${m.instructions} instructions, ${m.ms} ms`);
  });
