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
const WHERE = Object.fromEntries([
  [ARG, ['msg_arg_data_size', 'msg_arg_data_copy']],
  [ALL, ['msg_caller_size', 'msg_caller_copy', 'canister_self_size', 'canister_self_copy', 'canister_cycle_balance',
    'canister_cycle_balance128', 'canister_liquid_cycle_balance128', 'canister_status', 'canister_version',
    'subnet_self_size', 'subnet_self_copy', 'data_certificate_present', 'time', 'env_var_count', 'env_var_name_size',
    'env_var_name_copy', 'env_var_name_exists', 'env_var_value_size', 'env_var_value_copy']],
  [CALLBACKS, ['msg_reject_code', 'msg_reject_msg_size', 'msg_reject_msg_copy', 'msg_cycles_refunded',
    'msg_cycles_refunded128']],
  [REPLY, ['msg_deadline', 'msg_reply_data_append', 'msg_reply', 'msg_reject', 'msg_cycles_available',
    'msg_cycles_available128', 'msg_cycles_accept', 'msg_cycles_accept128']],
  [REPLICATED_WRITE, ['cycles_burn128', 'root_key_size', 'root_key_copy', 'certified_data_set', 'global_timer_set']],
  [[K.inspect], ['msg_method_name_size', 'msg_method_name_copy', 'accept_message']],
  [CALLS, ['call_new', 'call_on_cleanup', 'call_data_append', 'call_with_best_effort_response', 'call_cycles_add',
    'call_cycles_add128', 'call_perform']],
  [ALL_AND_START, ['stable_size', 'stable_grow', 'stable_write', 'stable_read', 'stable64_size', 'stable64_grow',
    'stable64_write', 'stable64_read', 'performance_counter', 'is_controller', 'in_replicated_execution',
    'cost_call', 'debug_print', 'trap']],
  [[K.query], ['data_certificate_size', 'data_certificate_copy']],
].flatMap(([where, names]) => names.map((name) => [name, where])));

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
