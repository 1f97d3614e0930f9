// The management canister (`aaaaa-aa`) subset reachable by ingress messages:
// canister creation, code installation (direct and chunked), status, settings,
// start/stop/delete. Arguments and replies are Candid, as on the IC; the record
// types follow the current interface (dfinity/portal `ic.did`), which icp-cli
// decodes strictly.

import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { CanisterError, compileCode } from './canister.mjs';
import { LIMITS } from './module-limits.mjs';

const MAX_CHUNK_BYTES = LIMITS.chunkBytes;
const MAX_CHUNK_STORE_BYTES = LIMITS.moduleBytes; // the store holds one module: WASM_MAX_SIZE
const MAX_CONTROLLERS = 10;
// The IC's limits on canister environment variables (MAX_ENVIRONMENT_VARIABLES & co.).
const MAX_ENV_VARS = 20;
const MAX_ENV_NAME_BYTES = 128;
const MAX_ENV_VALUE_BYTES = 128;
const MAX_U64 = (1n << 64n) - 1n;
const MAX_WASM_MEMORY_LIMIT = 1n << 48n;
const MAX_LOG_MEMORY_LIMIT = 2n ** 20n * 2n; // 2 MiB

/** Cycles of a canister created by a call that attaches none (provisional creation without an amount). */
export const DEFAULT_CANISTER_CYCLES = 100_000_000_000_000n;

/** The settings of a new canister on an application subnet. */
export const DEFAULT_SETTINGS = Object.freeze({
  compute_allocation: 0n,
  memory_allocation: 0n,
  freezing_threshold: 2_592_000n, // 30 days
  reserved_cycles_limit: 5_000_000_000_000n,
  log_visibility: { controllers: null },
  snapshot_visibility: { controllers: null },
  status_visibility: { controllers: null },
  wasm_memory_limit: 3n << 30n, // 3 GiB
  wasm_memory_threshold: 0n,
  log_memory_limit: 4096n,
  minimum_incoming_canister_call_cycles: 0n,
});
const VISIBILITY_SETTINGS = ['log_visibility', 'snapshot_visibility', 'status_visibility'];

const Visibility = IDL.Variant({ controllers: IDL.Null, public: IDL.Null, allowed_viewers: IDL.Vec(IDL.Principal) });
const EnvironmentVariable = IDL.Record({ name: IDL.Text, value: IDL.Text });
export const CanisterSettings = IDL.Record({
  controllers: IDL.Opt(IDL.Vec(IDL.Principal)),
  compute_allocation: IDL.Opt(IDL.Nat),
  memory_allocation: IDL.Opt(IDL.Nat),
  freezing_threshold: IDL.Opt(IDL.Nat),
  reserved_cycles_limit: IDL.Opt(IDL.Nat),
  log_visibility: IDL.Opt(Visibility),
  snapshot_visibility: IDL.Opt(Visibility),
  status_visibility: IDL.Opt(Visibility),
  log_memory_limit: IDL.Opt(IDL.Nat),
  wasm_memory_limit: IDL.Opt(IDL.Nat),
  wasm_memory_threshold: IDL.Opt(IDL.Nat),
  minimum_incoming_canister_call_cycles: IDL.Opt(IDL.Nat),
  environment_variables: IDL.Opt(IDL.Vec(EnvironmentVariable)),
});
const DefiniteCanisterSettings = IDL.Record({
  controllers: IDL.Vec(IDL.Principal),
  compute_allocation: IDL.Nat,
  memory_allocation: IDL.Nat,
  freezing_threshold: IDL.Nat,
  reserved_cycles_limit: IDL.Nat,
  log_visibility: Visibility,
  snapshot_visibility: Visibility,
  status_visibility: Visibility,
  log_memory_limit: IDL.Nat,
  wasm_memory_limit: IDL.Nat,
  wasm_memory_threshold: IDL.Nat,
  minimum_incoming_canister_call_cycles: IDL.Nat,
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
    ready_for_migration: IDL.Bool,
    version: IDL.Nat64,
    settings: DefiniteCanisterSettings,
    module_hash: IDL.Opt(IDL.Vec(IDL.Nat8)),
    memory_size: IDL.Nat,
    memory_metrics: IDL.Record({
      wasm_memory_size: IDL.Nat,
      stable_memory_size: IDL.Nat,
      global_memory_size: IDL.Nat,
      wasm_binary_size: IDL.Nat,
      custom_sections_size: IDL.Nat,
      canister_history_size: IDL.Nat,
      wasm_chunk_store_size: IDL.Nat,
      snapshots_size: IDL.Nat,
      log_memory_store_size: IDL.Nat,
    }),
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

const invalidSettings = (message) => new CanisterError('IC0408', 4, message);

function boundedNat(settings, key, max) {
  const value = settings?.[key]?.[0];
  if (value !== undefined && value > max) throw invalidSettings(`${key} must be at most ${max}, got ${value}`);
  return value;
}

/**
 * The changes `settings` (Candid `canister_settings`) asks for, all checked before any is applied, so a bad
 * setting leaves the canister as it was.
 */
/** Controllers may read a canister's status; others when its status_visibility lets them. */
function statusViewable(replica, canisterId, caller) {
  const canister = replica.getCanister(canisterId);
  const visibility = settingsOf(canister).status_visibility;
  const viewer = visibility.allowed_viewers?.some((p) => bytesToHex(p.toUint8Array()) === bytesToHex(caller));
  return visibility.public !== undefined || viewer ? canister : controlled(replica, canisterId, caller);
}

function checkedSettings(settings) {
  const changes = {};
  const controllers = settings?.controllers?.[0];
  if (controllers && controllers.length > MAX_CONTROLLERS) throw invalidSettings(`A canister can have at most ${MAX_CONTROLLERS} controllers`);
  const envVars = settings?.environment_variables?.[0];
  if (envVars) {
    if (envVars.length > MAX_ENV_VARS) throw invalidSettings(`A canister can have at most ${MAX_ENV_VARS} environment variables`);
    const bytes = (text) => Buffer.byteLength(text, 'utf8');
    const bad = envVars.find(({ name, value }) => bytes(name) > MAX_ENV_NAME_BYTES || bytes(value) > MAX_ENV_VALUE_BYTES);
    if (bad) throw invalidSettings(`Environment variable names are at most ${MAX_ENV_NAME_BYTES} bytes and values at most ${MAX_ENV_VALUE_BYTES} bytes (${bad.name.slice(0, MAX_ENV_NAME_BYTES)})`);
    if (new Set(envVars.map(({ name }) => name)).size !== envVars.length) throw invalidSettings('Duplicate environment variable names');
  }
  const limits = {
    compute_allocation: 100n,
    memory_allocation: MAX_U64,
    freezing_threshold: MAX_U64,
    reserved_cycles_limit: (1n << 128n) - 1n,
    wasm_memory_limit: MAX_WASM_MEMORY_LIMIT,
    wasm_memory_threshold: MAX_WASM_MEMORY_LIMIT,
    log_memory_limit: MAX_LOG_MEMORY_LIMIT,
    minimum_incoming_canister_call_cycles: (1n << 128n) - 1n,
  };
  for (const [key, max] of Object.entries(limits)) {
    const value = boundedNat(settings, key, max);
    if (value !== undefined) changes[key] = value;
  }
  for (const key of VISIBILITY_SETTINGS) {
    const visibility = settings?.[key]?.[0];
    if (visibility?.allowed_viewers && visibility.allowed_viewers.length > MAX_CONTROLLERS) {
      throw invalidSettings(`${key}: at most ${MAX_CONTROLLERS} allowed viewers`);
    }
    if (visibility) changes[key] = visibility;
  }
  return { controllers, envVars, changes };
}

function applySettings(replica, canister, settings) {
  const { controllers, envVars, changes } = checkedSettings(settings);
  if (controllers) canister.controllers = controllers.map((p) => p.toUint8Array());
  if (envVars) canister.envVars = new Map(envVars.map(({ name, value }) => [name, value]));
  canister.settings = { ...settingsOf(canister), ...changes };
  replica.persistCanister(canister);
}

/** A canister's definite settings other than controllers and environment variables. */
export const settingsOf = (canister) => canister.settings ?? DEFAULT_SETTINGS;

/** Settings as JSON (for the --state directory) and back. */
export function settingsToJson(settings) {
  return Object.fromEntries(Object.entries(settings).map(([key, value]) => {
    if (!VISIBILITY_SETTINGS.includes(key)) return [key, value.toString()];
    return [key, value.allowed_viewers ? { allowed_viewers: value.allowed_viewers.map((p) => p.toText()) } : value];
  }));
}

export function settingsFromJson(json) {
  if (!json) return null;
  const settings = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(DEFAULT_SETTINGS)) {
    const value = json[key];
    if (value === undefined) continue;
    if (!VISIBILITY_SETTINGS.includes(key)) settings[key] = BigInt(value);
    else settings[key] = value.allowed_viewers ? { allowed_viewers: value.allowed_viewers.map((p) => Principal.fromText(p)) } : value;
  }
  return settings;
}

/**
 * Creates a canister controlled by `caller` (unless `settings` name controllers) holding `cycles`. Settings are
 * checked before the canister exists, so a bad one creates nothing.
 */
export function createCanister(replica, { settings, specifiedId, caller, cycles = DEFAULT_CANISTER_CYCLES }) {
  checkedSettings(settings);
  const canister = replica.createCanister({ specifiedId, controllers: [caller] });
  canister.cycles = cycles;
  applySettings(replica, canister, settings);
  return canister;
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

const canisterIdOf = (canister) => ({ canister_id: Principal.fromUint8Array(canister.id) });

/** Adds cycles to a canister's balance (top-ups; nothing is charged on this replica). */
export function depositCycles(replica, canister, amount) {
  canister.cycles = (canister.cycles ?? DEFAULT_CANISTER_CYCLES) + amount;
  replica.persistCanister(canister);
}

// Storage price on a 13-node application subnet: 127,000 cycles per GiB per second.
const STORAGE_CYCLES_PER_GIB_SECOND = 127_000n;
const GiB = 1n << 30n;

function canisterStatus(canister) {
  const settings = settingsOf(canister);
  const metadataBytes = [...(canister.code?.info.metadata.values() ?? [])].reduce((n, { data }) => n + data.length, 0);
  const metrics = {
    wasm_memory_size: BigInt(canister.heapBytes),
    stable_memory_size: BigInt(canister.stable.sizeBytes),
    global_memory_size: 0n,
    wasm_binary_size: BigInt(canister.code?.wasm.length ?? 0),
    custom_sections_size: BigInt(metadataBytes),
    canister_history_size: 0n,
    wasm_chunk_store_size: BigInt([...canister.chunks.values()].reduce((n, c) => n + c.length, 0)),
    snapshots_size: 0n,
    log_memory_store_size: 0n,
  };
  const memorySize = Object.values(metrics).reduce((a, b) => a + b, 0n);
  return {
    status: { [canister.status]: null },
    ready_for_migration: false,
    version: BigInt(canister.version),
    settings: {
      ...settings,
      controllers: canister.controllers.map((c) => Principal.fromUint8Array(c)),
      environment_variables: [...canister.envVars].map(([name, value]) => ({ name, value })),
    },
    module_hash: canister.code ? [canister.code.hash] : [],
    memory_size: memorySize,
    memory_metrics: metrics,
    cycles: canister.cycles ?? DEFAULT_CANISTER_CYCLES,
    reserved_cycles: 0n,
    // What the IC would charge for the memory held (not charged here).
    idle_cycles_burned_per_day: (memorySize * STORAGE_CYCLES_PER_GIB_SECOND * 86_400n) / GiB,
    query_stats: { num_calls_total: 0n, num_instructions_total: 0n, request_payload_bytes_total: 0n, response_payload_bytes_total: 0n },
  };
}

const HANDLERS = {
  create_canister: (replica, { settings }, caller) => canisterIdOf(createCanister(replica, { settings: settings[0], caller })),
  provisional_create_canister_with_cycles: (replica, { amount, settings, specified_id: specified }, caller) => canisterIdOf(
    createCanister(replica, { settings: settings[0], specifiedId: specified[0], caller, cycles: amount[0] ?? DEFAULT_CANISTER_CYCLES }),
  ),
  provisional_top_up_canister: (replica, { canister_id: id, amount }) => { depositCycles(replica, replica.getCanister(id), amount); },
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
  canister_status: (replica, { canister_id: id }, caller) => canisterStatus(statusViewable(replica, id, caller)),
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
