// The `ic0` System API surface for wasm32 canisters. Names, exact signatures and the fixed instruction
// overhead charged per call come from the project's one table of them, platform/ic0-imports.json (shared
// with the IC module gate and the Java bindings' test); this file adds where each call may be made here.
//
// Signature notation: "<params>-><results>" with i = i32 and I = i64.
import { readFileSync } from 'node:fs';

const TABLE = JSON.parse(readFileSync(new URL('../../platform/ic0-imports.json', import.meta.url), 'utf8')).imports;

// Entry-point kinds used by the executor.
export const Kind = {
  start: 'start',
  init: 'init',
  preUpgrade: 'pre_upgrade',
  postUpgrade: 'post_upgrade',
  update: 'update',
  query: 'query',
  inspect: 'inspect_message',
};

const K = Kind;
const ALL = [K.init, K.postUpgrade, K.preUpgrade, K.update, K.query, K.inspect]; // `*`
const ALL_AND_START = [...ALL, K.start]; // `* s`
const ARG = [K.init, K.postUpgrade, K.update, K.query, K.inspect]; // I U RQ NRQ F
const REPLY = [K.update, K.query]; // U RQ NRQ
const REPLICATED_WRITE = [K.init, K.postUpgrade, K.preUpgrade, K.update]; // I G U
const CALLS = [K.update]; // U (inter-canister calls; not supported here, see system-api.mjs)
const CALLBACKS = []; // reply/reject callbacks never run here: no inter-canister calls

/** Where each import may be called in this replica (the spec's availability, narrowed to the kinds above). */
const WHERE = {
  msg_arg_data_size: ARG,
  msg_arg_data_copy: ARG,
  msg_caller_size: ALL,
  msg_caller_copy: ALL,
  msg_reject_code: CALLBACKS,
  msg_reject_msg_size: CALLBACKS,
  msg_reject_msg_copy: CALLBACKS,
  msg_deadline: REPLY,
  msg_reply_data_append: REPLY,
  msg_reply: REPLY,
  msg_reject: REPLY,
  msg_cycles_available: REPLY,
  msg_cycles_available128: REPLY,
  msg_cycles_refunded: CALLBACKS,
  msg_cycles_refunded128: CALLBACKS,
  msg_cycles_accept: REPLY,
  msg_cycles_accept128: REPLY,
  cycles_burn128: REPLICATED_WRITE,
  canister_self_size: ALL,
  canister_self_copy: ALL,
  canister_cycle_balance: ALL,
  canister_cycle_balance128: ALL,
  canister_liquid_cycle_balance128: ALL,
  canister_status: ALL,
  canister_version: ALL,
  subnet_self_size: ALL,
  subnet_self_copy: ALL,
  msg_method_name_size: [K.inspect],
  msg_method_name_copy: [K.inspect],
  accept_message: [K.inspect],
  call_new: CALLS,
  call_on_cleanup: CALLS,
  call_data_append: CALLS,
  call_with_best_effort_response: CALLS,
  call_cycles_add: CALLS,
  call_cycles_add128: CALLS,
  call_perform: CALLS,
  stable_size: ALL_AND_START,
  stable_grow: ALL_AND_START,
  stable_write: ALL_AND_START,
  stable_read: ALL_AND_START,
  stable64_size: ALL_AND_START,
  stable64_grow: ALL_AND_START,
  stable64_write: ALL_AND_START,
  stable64_read: ALL_AND_START,
  root_key_size: REPLICATED_WRITE,
  root_key_copy: REPLICATED_WRITE,
  certified_data_set: REPLICATED_WRITE,
  data_certificate_present: ALL,
  data_certificate_size: [K.query],
  data_certificate_copy: [K.query],
  time: ALL,
  global_timer_set: REPLICATED_WRITE,
  performance_counter: ALL_AND_START,
  is_controller: ALL_AND_START,
  in_replicated_execution: ALL_AND_START,
  cost_call: ALL_AND_START,
  env_var_count: ALL,
  env_var_name_size: ALL,
  env_var_name_copy: ALL,
  env_var_name_exists: ALL,
  env_var_value_size: ALL,
  env_var_value_copy: ALL,
  debug_print: ALL_AND_START,
  trap: ALL_AND_START,
};

const LETTERS = { i32: 'i', i64: 'I' };

/** Pairs every import of the table with its availability here; a name in only one of the two is an error. */
export function buildImports(table, where) {
  const unknown = Object.keys(where).filter((name) => !(name in table));
  const unplaced = Object.keys(table).filter((name) => !(name in where));
  if (unknown.length > 0 || unplaced.length > 0) {
    throw new Error(`ic0 availability and platform/ic0-imports.json disagree: not in the table: ${unknown.join(', ') || '-'}; `
      + `no availability: ${unplaced.join(', ') || '-'}`);
  }
  return Object.fromEntries(Object.entries(table).map(([name, { params, results, overhead }]) => [name, {
    sig: `${params.map((t) => LETTERS[t]).join('')}->${results.map((t) => LETTERS[t]).join('')}`,
    cost: overhead,
    where: where[name],
  }]));
}

/** name -> { sig, cost, where } */
export const IC0_IMPORTS = buildImports(TABLE, WHERE);

const VALUE_TYPE = { i: 0x7f, I: 0x7e };

/** Encodes a signature string as {params, results} arrays of value-type bytes. */
export function parseSignature(sig) {
  const [p, r] = sig.split('->');
  return { params: [...p].map((c) => VALUE_TYPE[c]), results: [...r].map((c) => VALUE_TYPE[c]) };
}
