// The `ic0` imports given to a canister instance. Each call checks where it may
// be used, charges the IC's fixed overhead plus 1 instruction per byte copied
// (charged on the module's instruction counter global, as the IC's linker does
// before executing the call) and then acts on the current execution context.

import { IC0_IMPORTS } from './ic0-imports.mjs';

/** A trap raised by the host; `kind` selects the IC error code. */
export class CanisterTrap extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind; // 'called_trap' | 'trapped' | 'contract' | 'instructions'
  }
}

const contract = (message) => new CanisterTrap('contract', message);
const trapped = (what) => new CanisterTrap('trapped', `Canister trapped: ${what}`);

const MAX_32BIT_STABLE_PAGES = 65536; // 4 GiB
const CYCLE_BALANCE = 100_000_000_000_000n;
const utf8 = new TextDecoder();

/**
 * Builds the `ic0` import object for a canister.
 * @param {object} host  { canister, execution(), counter(), exhausted(), memory(), options, log(text) }
 * @param {Set<string>} imported  names the module imports
 */
export function buildIc0(host, imported) {
  const exec = () => host.execution();

  function charge(amount) {
    const counter = host.counter();
    if (counter.value < 0n) host.exhausted();
    counter.value -= BigInt(amount);
    if (counter.value < 0n) host.exhausted();
  }

  function heap() {
    const mem = host.memory();
    return mem ? new Uint8Array(mem.buffer) : new Uint8Array(0);
  }

  function heapRange(ptr, size) {
    const h = heap();
    if (ptr + size > h.length) throw trapped('heap out of bounds');
    return h.subarray(ptr, ptr + size);
  }

  // The blob idiom: copy source[offset, offset+size) to heap[dst, ...).
  function copyOut(name, source, dst, offset, size) {
    dst >>>= 0; offset >>>= 0; size >>>= 0;
    charge(size);
    if (offset + size > source.length) {
      throw contract(`ic0.${name}: src=${offset} + length=${size} exceeds the slice size=${source.length}`);
    }
    heapRange(dst, size).set(source.subarray(offset, offset + size));
  }

  function replyState(name) {
    const e = exec();
    if (e.response) throw contract(`ic0.${name}: the call is already replied`);
    return e;
  }

  function stableWrite(offset, src, size) {
    charge(size);
    const { stable } = host.canister;
    if (!stable.inBounds(offset, size)) throw trapped('stable memory out of bounds');
    const newlyDirty = stable.write(offset, heapRange(src, size));
    charge(newlyDirty * host.options.dirtyPageOverhead);
  }

  function stableRead(dst, offset, size) {
    charge(size);
    const { stable } = host.canister;
    if (!stable.inBounds(offset, size)) throw trapped('stable memory out of bounds');
    const target = heapRange(dst, size);
    stable.read(target, 0, offset, size);
  }

  function check32BitStable() {
    if (host.canister.stable.sizePages > MAX_32BIT_STABLE_PAGES) {
      throw trapped('32 bit stable memory api used on a memory larger than 4GB');
    }
  }

  function write128(dst, value) {
    const bytes = heapRange(dst >>> 0, 16);
    const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
    view.setBigUint64(0, value & 0xffffffffffffffffn, true);
    view.setBigUint64(8, value >> 64n, true);
  }

  function unsupportedCall() {
    throw contract('local-replica does not support inter-canister calls');
  }

  const envVar = (src, size) => exec().envVars.get(utf8.decode(heapRange(src >>> 0, size >>> 0)));

  const impl = {
    msg_arg_data_size: () => exec().arg.length,
    msg_arg_data_copy: (dst, off, size) => copyOut('msg_arg_data_copy', exec().arg, dst, off, size),
    msg_caller_size: () => exec().caller.length,
    msg_caller_copy: (dst, off, size) => copyOut('msg_caller_copy', exec().caller, dst, off, size),
    msg_reject_code: () => 0,
    msg_reject_msg_size: () => 0,
    msg_reject_msg_copy: () => {},
    msg_deadline: () => 0n,
    msg_reply_data_append: (src, size) => {
      src >>>= 0; size >>>= 0;
      charge(size);
      const e = replyState('msg_reply_data_append');
      if (e.replySize + size > e.maxReplyBytes) {
        throw contract(`ic0.msg_reply_data_append: application payload size (${e.replySize + size}) cannot be larger than ${e.maxReplyBytes}.`);
      }
      e.replyParts.push(heapRange(src, size).slice());
      e.replySize += size;
    },
    msg_reply: () => {
      const e = replyState('msg_reply');
      e.response = { reply: concat(e.replyParts, e.replySize) };
    },
    msg_reject: (src, size) => {
      src >>>= 0; size >>>= 0;
      charge(size);
      const e = replyState('msg_reject');
      e.response = { reject: utf8.decode(heapRange(src, size)) };
    },
    msg_cycles_available: () => 0n,
    msg_cycles_available128: (dst) => write128(dst, 0n),
    msg_cycles_refunded: () => 0n,
    msg_cycles_refunded128: (dst) => write128(dst, 0n),
    msg_cycles_accept: () => 0n,
    msg_cycles_accept128: (_hi, _lo, dst) => write128(dst, 0n),
    cycles_burn128: (_hi, _lo, dst) => write128(dst, 0n),
    canister_self_size: () => host.canister.id.length,
    canister_self_copy: (dst, off, size) => copyOut('canister_self_copy', host.canister.id, dst, off, size),
    canister_cycle_balance: () => CYCLE_BALANCE,
    canister_cycle_balance128: (dst) => write128(dst, CYCLE_BALANCE),
    canister_liquid_cycle_balance128: (dst) => write128(dst, CYCLE_BALANCE),
    canister_status: () => ({ running: 1, stopping: 2, stopped: 3 })[host.canister.status],
    canister_version: () => BigInt(host.canister.version),
    subnet_self_size: () => host.subnetId.length,
    subnet_self_copy: (dst, off, size) => copyOut('subnet_self_copy', host.subnetId, dst, off, size),
    msg_method_name_size: () => exec().methodNameBytes.length,
    msg_method_name_copy: (dst, off, size) => copyOut('msg_method_name_copy', exec().methodNameBytes, dst, off, size),
    accept_message: () => {
      const e = exec();
      if (e.accepted) throw contract('ic0.accept_message: the function was already called.');
      e.accepted = true;
    },
    call_new: unsupportedCall,
    call_on_cleanup: unsupportedCall,
    call_data_append: unsupportedCall,
    call_with_best_effort_response: unsupportedCall,
    call_cycles_add: unsupportedCall,
    call_cycles_add128: unsupportedCall,
    call_perform: unsupportedCall,
    stable_size: () => { check32BitStable(); return host.canister.stable.sizePages; },
    stable_grow: (pages) => {
      check32BitStable();
      const { stable } = host.canister;
      if (stable.sizePages + (pages >>> 0) > MAX_32BIT_STABLE_PAGES) return -1;
      return stable.grow(pages >>> 0);
    },
    stable_write: (off, src, size) => { check32BitStable(); stableWrite(off >>> 0, src >>> 0, size >>> 0); },
    stable_read: (dst, off, size) => { check32BitStable(); stableRead(dst >>> 0, off >>> 0, size >>> 0); },
    stable64_size: () => BigInt(host.canister.stable.sizePages),
    stable64_grow: (pages) => {
      const n = BigInt.asUintN(64, pages);
      if (n > BigInt(host.canister.stable.maxPages)) return -1n;
      return BigInt(host.canister.stable.grow(Number(n)));
    },
    stable64_write: (off, src, size) => {
      const [o, s, n] = [off, src, size].map((v) => BigInt.asUintN(64, v));
      if (s + n > 0xffffffffn) throw trapped('heap out of bounds');
      if (o + n > BigInt(host.canister.stable.sizeBytes)) throw trapped('stable memory out of bounds');
      stableWrite(Number(o), Number(s), Number(n));
    },
    stable64_read: (dst, off, size) => {
      const [d, o, n] = [dst, off, size].map((v) => BigInt.asUintN(64, v));
      if (d + n > 0xffffffffn) throw trapped('heap out of bounds');
      if (o + n > BigInt(host.canister.stable.sizeBytes)) throw trapped('stable memory out of bounds');
      stableRead(Number(d), Number(o), Number(n));
    },
    root_key_size: () => host.rootKey.length,
    root_key_copy: (dst, off, size) => copyOut('root_key_copy', host.rootKey, dst, off, size),
    certified_data_set: (src, size) => {
      src >>>= 0; size >>>= 0;
      charge(size);
      if (size > 32) throw contract(`ic0.certified_data_set: can only set up to 32 bytes, got ${size}`);
      exec().certifiedData = heapRange(src, size).slice();
    },
    data_certificate_present: () => 0,
    data_certificate_size: () => { throw contract('ic0.data_certificate_size: no certificate available'); },
    data_certificate_copy: () => { throw contract('ic0.data_certificate_copy: no certificate available'); },
    time: () => exec().time,
    global_timer_set: (t) => {
      const previous = host.canister.globalTimer;
      exec().globalTimer = BigInt.asUintN(64, t);
      return previous;
    },
    performance_counter: (type) => {
      if (type !== 0 && type !== 1) throw contract(`Error getting performance counter type ${type}`);
      const ctx = exec();
      return countedInstructions(ctx, ctx.granted - host.counter().value);
    },
    is_controller: (src, size) => {
      src >>>= 0; size >>>= 0;
      charge(size);
      if (size > 29) throw contract(`ic0.is_controller: invalid principal of ${size} bytes`);
      const principal = heapRange(src, size);
      return host.canister.controllers.some((c) => equalBytes(c, principal)) ? 1 : 0;
    },
    in_replicated_execution: () => (exec().replicated ? 1 : 0),
    cost_call: (_m, _p, dst) => write128(dst, 0n),
    env_var_count: () => exec().envVars.size,
    env_var_name_size: (i) => envVarName(exec(), i).length,
    env_var_name_copy: (i, dst, off, size) => copyOut('env_var_name_copy', envVarName(exec(), i), dst, off, size),
    env_var_name_exists: (src, size) => (envVar(src, size) === undefined ? 0 : 1),
    env_var_value_size: (src, size) => envValue(envVar(src, size)).length,
    env_var_value_copy: (src, size, dst, off, n) => copyOut('env_var_value_copy', envValue(envVar(src, size)), dst, off, n),
    debug_print: (src, size) => {
      src >>>= 0; size >>>= 0;
      charge(size);
      const h = heap();
      const end = Math.min(src + size, h.length);
      host.log(utf8.decode(h.subarray(Math.min(src, end), end)));
    },
    trap: (src, size) => {
      src >>>= 0; size >>>= 0;
      charge(size);
      const h = heap();
      const end = Math.min(src + size, h.length);
      throw new CanisterTrap('called_trap', `Canister called \`ic0.trap\` with message: '${utf8.decode(h.subarray(Math.min(src, end), end))}'`);
    },
  };

  const ic0 = {};
  for (const name of imported) {
    const { cost, where } = IC0_IMPORTS[name];
    const fn = impl[name];
    ic0[name] = (...args) => {
      const e = exec();
      if (!where.includes(e.kind)) throw contract(`"ic0_${name}" cannot be executed in ${e.kind} mode`);
      charge(cost);
      return fn(...args);
    };
  }
  return ic0;
}

function envVarName(e, index) {
  const names = [...e.envVars.keys()];
  if ((index >>> 0) >= names.length) throw contract(`ic0.env_var_name: index ${index} out of bounds`);
  return new TextEncoder().encode(names[index >>> 0]);
}

function envValue(value) {
  if (value === undefined) throw contract('ic0.env_var_value: environment variable not found');
  return new TextEncoder().encode(value);
}

/** The metered instructions that stand for `instructions` as the canister sees them (at least 1; a BigInt). */
export function meteredInstructions(instructions, instructionScale) {
  if (instructionScale === 1) return BigInt(instructions);
  return BigInt(Math.max(1, Math.floor(Number(instructions) / instructionScale)));
}

/** `metered` instructions (a BigInt) as the canister of execution context `ctx` sees them. */
export function countedInstructions(ctx, metered) {
  return ctx.instructionScale === 1 ? metered : BigInt(Math.round(Number(metered) * ctx.instructionScale));
}

export function outOfInstructions(e) {
  return new CanisterTrap('instructions', `Canister exceeded the limit of ${e.limit} instructions for single message execution.`);
}

function concat(parts, size) {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
