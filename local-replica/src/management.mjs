// The management canister (`aaaaa-aa`) subset reachable by ingress messages:
// canister creation, code installation (direct and chunked), status, settings,
// start/stop/delete. Arguments and replies are Candid, as on the IC.

import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { CanisterError, compileCode } from './canister.mjs';

const MAX_CHUNK_BYTES = 1024 * 1024;
const MAX_CHUNK_STORE_BYTES = 100 * 1024 * 1024;

const LogVisibility = IDL.Variant({ controllers: IDL.Null, public: IDL.Null, allowed_viewers: IDL.Vec(IDL.Principal) });
const EnvironmentVariable = IDL.Record({ name: IDL.Text, value: IDL.Text });
const CanisterSettings = IDL.Record({
  controllers: IDL.Opt(IDL.Vec(IDL.Principal)),
  compute_allocation: IDL.Opt(IDL.Nat),
  memory_allocation: IDL.Opt(IDL.Nat),
  freezing_threshold: IDL.Opt(IDL.Nat),
  reserved_cycles_limit: IDL.Opt(IDL.Nat),
  log_visibility: IDL.Opt(LogVisibility),
  wasm_memory_limit: IDL.Opt(IDL.Nat),
  wasm_memory_threshold: IDL.Opt(IDL.Nat),
  environment_variables: IDL.Opt(IDL.Vec(EnvironmentVariable)),
});
const DefiniteCanisterSettings = IDL.Record({
  controllers: IDL.Vec(IDL.Principal),
  compute_allocation: IDL.Nat,
  memory_allocation: IDL.Nat,
  freezing_threshold: IDL.Nat,
  reserved_cycles_limit: IDL.Nat,
  log_visibility: LogVisibility,
  wasm_memory_limit: IDL.Nat,
  wasm_memory_threshold: IDL.Nat,
  environment_variables: IDL.Vec(EnvironmentVariable),
});
const InstallMode = IDL.Variant({
  install: IDL.Null,
  reinstall: IDL.Null,
  upgrade: IDL.Opt(IDL.Record({
    skip_pre_upgrade: IDL.Opt(IDL.Bool),
    wasm_memory_persistence: IDL.Opt(IDL.Variant({ keep: IDL.Null, replace: IDL.Null })),
  })),
});
const CanisterIdRecord = IDL.Record({ canister_id: IDL.Principal });
const ChunkHash = IDL.Record({ hash: IDL.Vec(IDL.Nat8) });

/** Candid signatures of the supported methods: [argument types, result types]. */
export const MANAGEMENT_METHODS = {
  create_canister: [[IDL.Record({ settings: IDL.Opt(CanisterSettings), sender_canister_version: IDL.Opt(IDL.Nat64) })], [CanisterIdRecord]],
  provisional_create_canister_with_cycles: [[IDL.Record({
    amount: IDL.Opt(IDL.Nat),
    settings: IDL.Opt(CanisterSettings),
    specified_id: IDL.Opt(IDL.Principal),
    sender_canister_version: IDL.Opt(IDL.Nat64),
  })], [CanisterIdRecord]],
  provisional_top_up_canister: [[IDL.Record({ canister_id: IDL.Principal, amount: IDL.Nat })], []],
  install_code: [[IDL.Record({
    mode: InstallMode,
    canister_id: IDL.Principal,
    wasm_module: IDL.Vec(IDL.Nat8),
    arg: IDL.Vec(IDL.Nat8),
    sender_canister_version: IDL.Opt(IDL.Nat64),
  })], []],
  upload_chunk: [[IDL.Record({ canister_id: IDL.Principal, chunk: IDL.Vec(IDL.Nat8) })], [ChunkHash]],
  clear_chunk_store: [[CanisterIdRecord], []],
  stored_chunks: [[CanisterIdRecord], [IDL.Vec(ChunkHash)]],
  install_chunked_code: [[IDL.Record({
    mode: InstallMode,
    target_canister: IDL.Principal,
    store_canister: IDL.Opt(IDL.Principal),
    chunk_hashes_list: IDL.Vec(ChunkHash),
    wasm_module_hash: IDL.Vec(IDL.Nat8),
    arg: IDL.Vec(IDL.Nat8),
    sender_canister_version: IDL.Opt(IDL.Nat64),
  })], []],
  canister_status: [[CanisterIdRecord], [IDL.Record({
    status: IDL.Variant({ running: IDL.Null, stopping: IDL.Null, stopped: IDL.Null }),
    settings: DefiniteCanisterSettings,
    module_hash: IDL.Opt(IDL.Vec(IDL.Nat8)),
    memory_size: IDL.Nat,
    cycles: IDL.Nat,
    reserved_cycles: IDL.Nat,
    idle_cycles_burned_per_day: IDL.Nat,
    query_stats: IDL.Record({
      num_calls_total: IDL.Nat,
      num_instructions_total: IDL.Nat,
      request_payload_bytes_total: IDL.Nat,
      response_payload_bytes_total: IDL.Nat,
    }),
  })]],
  update_settings: [[IDL.Record({
    canister_id: IDL.Principal,
    settings: CanisterSettings,
    sender_canister_version: IDL.Opt(IDL.Nat64),
  })], []],
  start_canister: [[CanisterIdRecord], []],
  stop_canister: [[CanisterIdRecord], []],
  delete_canister: [[CanisterIdRecord], []],
};

/** An IDL service of the supported methods, for building an Actor in clients/tests. */
export const managementIdlFactory = ({ IDL: idl = IDL } = {}) => idl.Service(
  Object.fromEntries(Object.entries(MANAGEMENT_METHODS).map(([name, [args, results]]) => [name, idl.Func(args, results, [])])),
);

const invalidPayload = (method, e) => new CanisterError('IC0408', 4, `Error decoding candid for method ${method}: ${e.message}`);

/**
 * Executes a management canister method.
 * @param {import('./replica.mjs').Replica} replica
 * @returns {{ reply: Uint8Array }} the Candid-encoded reply
 */
export function callManagement(replica, method, arg, caller) {
  const signature = MANAGEMENT_METHODS[method];
  if (!signature) {
    throw new CanisterError('IC0407', 3, `Management canister has no method '${method}'`);
  }
  const [argTypes, resultTypes] = signature;
  let request;
  try {
    [request] = IDL.decode(argTypes, arg);
  } catch (e) {
    throw invalidPayload(method, e);
  }
  const result = HANDLERS[method](replica, request, caller);
  return { reply: new Uint8Array(IDL.encode(resultTypes, result === undefined ? [] : [result])) };
}

function controlled(replica, canisterId, caller) {
  const canister = replica.getCanister(canisterId);
  if (!canister.controllers.some((c) => bytesToHex(c) === bytesToHex(caller))) {
    throw new CanisterError('IC0512', 5, `Only the controllers of the canister ${canister.idText} can control it.\n`
      + `Canister's controllers: ${canister.controllers.map((c) => Principal.fromUint8Array(c).toText()).join(' ')}\n`
      + `Sender's ID: ${Principal.fromUint8Array(caller).toText()}`);
  }
  return canister;
}

function applySettings(replica, canister, settings) {
  const controllers = settings?.controllers?.[0];
  if (controllers) {
    if (controllers.length > 10) throw new CanisterError('IC0408', 4, 'A canister can have at most 10 controllers');
    canister.controllers = controllers.map((p) => p.toUint8Array());
  }
  const envVars = settings?.environment_variables?.[0];
  if (envVars) canister.envVars = new Map(envVars.map(({ name, value }) => [name, value]));
  replica.persistCanister(canister);
}

function createCanister(replica, settings, specifiedId, caller) {
  const canister = replica.createCanister({ specifiedId, controllers: [caller] });
  applySettings(replica, canister, settings);
  return { canister_id: Principal.fromUint8Array(canister.id) };
}

function installCode(replica, { mode, canisterId, wasm, arg, caller }) {
  const canister = controlled(replica, canisterId, caller);
  const modeName = Object.keys(mode)[0];
  const upgradeOptions = mode.upgrade?.[0];
  if (upgradeOptions?.wasm_memory_persistence?.[0]?.keep !== undefined) {
    throw new CanisterError('IC0504', 5, 'local-replica does not support wasm_memory_persistence = opt keep');
  }
  const code = compileCode(wasm, canister.idText);
  replica.installCode(canister, {
    mode: modeName,
    code,
    arg: new Uint8Array(arg),
    caller,
    skipPreUpgrade: upgradeOptions?.skip_pre_upgrade?.[0] === true,
  });
}

const HANDLERS = {
  create_canister: (replica, { settings }, caller) => createCanister(replica, settings[0], undefined, caller),
  provisional_create_canister_with_cycles: (replica, { settings, specified_id: specified }, caller) =>
    createCanister(replica, settings[0], specified[0], caller),
  provisional_top_up_canister: (replica, { canister_id: id }) => { replica.getCanister(id); },
  install_code: (replica, r, caller) => installCode(replica, {
    mode: r.mode, canisterId: r.canister_id, wasm: new Uint8Array(r.wasm_module), arg: r.arg, caller,
  }),
  upload_chunk: (replica, { canister_id: id, chunk }, caller) => {
    const canister = controlled(replica, id, caller);
    const bytes = new Uint8Array(chunk);
    if (bytes.length > MAX_CHUNK_BYTES) throw new CanisterError('IC0504', 5, `Chunk size ${bytes.length} exceeds the maximum of ${MAX_CHUNK_BYTES} bytes`);
    const stored = [...canister.chunks.values()].reduce((n, c) => n + c.length, 0);
    if (stored + bytes.length > MAX_CHUNK_STORE_BYTES) throw new CanisterError('IC0504', 5, 'Wasm chunk store is full');
    const hash = sha256(bytes);
    canister.chunks.set(bytesToHex(hash), bytes);
    return { hash };
  },
  clear_chunk_store: (replica, { canister_id: id }, caller) => { controlled(replica, id, caller).chunks.clear(); },
  stored_chunks: (replica, { canister_id: id }, caller) =>
    [...controlled(replica, id, caller).chunks.keys()].map((h) => ({ hash: Uint8Array.from(Buffer.from(h, 'hex')) })),
  install_chunked_code: (replica, r, caller) => {
    const store = controlled(replica, r.store_canister[0] ?? r.target_canister, caller);
    const parts = r.chunk_hashes_list.map(({ hash }) => {
      const chunk = store.chunks.get(bytesToHex(new Uint8Array(hash)));
      if (!chunk) throw new CanisterError('IC0504', 5, `Chunk with hash ${bytesToHex(new Uint8Array(hash))} is not in the chunk store`);
      return chunk;
    });
    const wasm = new Uint8Array(Buffer.concat(parts));
    if (bytesToHex(sha256(wasm)) !== bytesToHex(new Uint8Array(r.wasm_module_hash))) {
      throw new CanisterError('IC0504', 5, `Wasm module hash ${bytesToHex(sha256(wasm))} does not match the expected hash ${bytesToHex(new Uint8Array(r.wasm_module_hash))}`);
    }
    installCode(replica, { mode: r.mode, canisterId: r.target_canister, wasm, arg: r.arg, caller });
  },
  canister_status: (replica, { canister_id: id }, caller) => {
    const canister = controlled(replica, id, caller);
    return {
      status: { [canister.status]: null },
      settings: {
        controllers: canister.controllers.map((c) => Principal.fromUint8Array(c)),
        compute_allocation: 0n,
        memory_allocation: 0n,
        freezing_threshold: 2_592_000n,
        reserved_cycles_limit: 5_000_000_000_000n,
        log_visibility: { controllers: null },
        wasm_memory_limit: BigInt(replica.options.maxWasmMemoryPages) * 65536n,
        wasm_memory_threshold: 0n,
        environment_variables: [...canister.envVars].map(([name, value]) => ({ name, value })),
      },
      module_hash: canister.code ? [canister.code.hash] : [],
      memory_size: BigInt(canister.heapBytes + canister.stable.sizeBytes + (canister.code?.wasm.length ?? 0)),
      cycles: 100_000_000_000_000n,
      reserved_cycles: 0n,
      idle_cycles_burned_per_day: 0n,
      query_stats: { num_calls_total: 0n, num_instructions_total: 0n, request_payload_bytes_total: 0n, response_payload_bytes_total: 0n },
    };
  },
  update_settings: (replica, { canister_id: id, settings }, caller) => {
    applySettings(replica, controlled(replica, id, caller), settings);
  },
  start_canister: (replica, { canister_id: id }, caller) => {
    const canister = controlled(replica, id, caller);
    canister.status = 'running';
    replica.persistCanister(canister);
  },
  stop_canister: (replica, { canister_id: id }, caller) => {
    const canister = controlled(replica, id, caller);
    canister.status = 'stopped';
    replica.persistCanister(canister);
  },
  delete_canister: (replica, { canister_id: id }, caller) => {
    const canister = controlled(replica, id, caller);
    if (canister.status !== 'stopped') throw new CanisterError('IC0510', 5, `Canister ${canister.idText} must be stopped before it is deleted.`);
    replica.deleteCanister(canister);
  },
};
