// The `ic0` System API surface for wasm32 canisters: exact signatures (from the
// interface spec, "Overview of imports", with I = i32), the fixed instruction
// overhead charged per call (system_api_complexity.rs "new" values), and where
// each call may be made.
//
// Signature notation: "<params>-><results>" with i = i32 and I = i64.

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

/** name -> { sig, cost, where } */
export const IC0_IMPORTS = {
  msg_arg_data_size: { sig: '->i', cost: 500, where: ARG },
  msg_arg_data_copy: { sig: 'iii->', cost: 500, where: ARG },
  msg_caller_size: { sig: '->i', cost: 500, where: ALL },
  msg_caller_copy: { sig: 'iii->', cost: 500, where: ALL },
  msg_reject_code: { sig: '->i', cost: 500, where: [] },
  msg_reject_msg_size: { sig: '->i', cost: 500, where: [] },
  msg_reject_msg_copy: { sig: 'iii->', cost: 500, where: [] },
  msg_deadline: { sig: '->I', cost: 500, where: REPLY },
  msg_reply_data_append: { sig: 'ii->', cost: 500, where: REPLY },
  msg_reply: { sig: '->', cost: 500, where: REPLY },
  msg_reject: { sig: 'ii->', cost: 500, where: REPLY },
  msg_cycles_available: { sig: '->I', cost: 500, where: [K.update, K.query] },
  msg_cycles_available128: { sig: 'i->', cost: 500, where: [K.update, K.query] },
  msg_cycles_refunded: { sig: '->I', cost: 500, where: [] },
  msg_cycles_refunded128: { sig: 'i->', cost: 500, where: [] },
  msg_cycles_accept: { sig: 'I->I', cost: 500, where: [K.update, K.query] },
  msg_cycles_accept128: { sig: 'IIi->', cost: 500, where: [K.update, K.query] },
  cycles_burn128: { sig: 'IIi->', cost: 500, where: REPLICATED_WRITE },
  canister_self_size: { sig: '->i', cost: 500, where: ALL },
  canister_self_copy: { sig: 'iii->', cost: 500, where: ALL },
  canister_cycle_balance: { sig: '->I', cost: 500, where: ALL },
  canister_cycle_balance128: { sig: 'i->', cost: 500, where: ALL },
  canister_liquid_cycle_balance128: { sig: 'i->', cost: 500, where: ALL },
  canister_status: { sig: '->i', cost: 500, where: ALL },
  canister_version: { sig: '->I', cost: 500, where: ALL },
  subnet_self_size: { sig: '->i', cost: 500, where: ALL },
  subnet_self_copy: { sig: 'iii->', cost: 500, where: ALL },
  msg_method_name_size: { sig: '->i', cost: 500, where: [K.inspect] },
  msg_method_name_copy: { sig: 'iii->', cost: 500, where: [K.inspect] },
  accept_message: { sig: '->', cost: 500, where: [K.inspect] },
  call_new: { sig: 'iiiiiiii->', cost: 1500, where: CALLS },
  call_on_cleanup: { sig: 'ii->', cost: 500, where: CALLS },
  call_data_append: { sig: 'ii->', cost: 500, where: CALLS },
  call_with_best_effort_response: { sig: 'i->', cost: 500, where: CALLS },
  call_cycles_add: { sig: 'I->', cost: 500, where: CALLS },
  call_cycles_add128: { sig: 'II->', cost: 500, where: CALLS },
  call_perform: { sig: '->i', cost: 5000, where: CALLS },
  stable_size: { sig: '->i', cost: 20, where: ALL_AND_START },
  stable_grow: { sig: 'i->i', cost: 500, where: ALL_AND_START },
  stable_write: { sig: 'iii->', cost: 20, where: ALL_AND_START },
  stable_read: { sig: 'iii->', cost: 20, where: ALL_AND_START },
  stable64_size: { sig: '->I', cost: 20, where: ALL_AND_START },
  stable64_grow: { sig: 'I->I', cost: 500, where: ALL_AND_START },
  stable64_write: { sig: 'III->', cost: 20, where: ALL_AND_START },
  stable64_read: { sig: 'III->', cost: 20, where: ALL_AND_START },
  root_key_size: { sig: '->i', cost: 500, where: REPLICATED_WRITE },
  root_key_copy: { sig: 'iii->', cost: 500, where: REPLICATED_WRITE },
  certified_data_set: { sig: 'ii->', cost: 500, where: REPLICATED_WRITE },
  data_certificate_present: { sig: '->i', cost: 500, where: ALL },
  data_certificate_size: { sig: '->i', cost: 500, where: [K.query] },
  data_certificate_copy: { sig: 'iii->', cost: 500, where: [K.query] },
  time: { sig: '->I', cost: 500, where: ALL },
  global_timer_set: { sig: 'I->I', cost: 500, where: REPLICATED_WRITE },
  performance_counter: { sig: 'i->I', cost: 200, where: ALL_AND_START },
  is_controller: { sig: 'ii->i', cost: 1000, where: ALL_AND_START },
  in_replicated_execution: { sig: '->i', cost: 500, where: ALL_AND_START },
  cost_call: { sig: 'IIi->', cost: 500, where: ALL_AND_START },
  env_var_count: { sig: '->i', cost: 500, where: ALL },
  env_var_name_size: { sig: 'i->i', cost: 500, where: ALL },
  env_var_name_copy: { sig: 'iiii->', cost: 500, where: ALL },
  env_var_name_exists: { sig: 'ii->i', cost: 500, where: ALL },
  env_var_value_size: { sig: 'ii->i', cost: 500, where: ALL },
  env_var_value_copy: { sig: 'iiiii->', cost: 500, where: ALL },
  debug_print: { sig: 'ii->', cost: 100, where: ALL_AND_START },
  trap: { sig: 'ii->', cost: 500, where: ALL_AND_START },
};

const LETTER = { i: 0x7f, I: 0x7e };

/** Encodes a signature string as {params, results} arrays of value-type bytes. */
export function parseSignature(sig) {
  const [p, r] = sig.split('->');
  return { params: [...p].map((c) => LETTER[c]), results: [...r].map((c) => LETTER[c]) };
}
