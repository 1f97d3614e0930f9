// One canister: its compiled module, live Wasm instance, stable memory and
// settings, and the message semantics of the IC:
//  * an update's changes to the Wasm heap, mutable globals and stable memory are
//    committed only when it returns; a trap rolls all of them back;
//  * a query's (and inspect_message's) changes are always discarded;
//  * install/reinstall/upgrade are atomic: a trap in pre_upgrade, start,
//    init or post_upgrade leaves the canister exactly as it was.
//
// Rollback of the Wasm heap uses a committed copy of the heap, kept per
// instance: after a committed message the live heap is synchronised into it,
// after a discarded one it is synchronised back into the live heap (one pass
// over the heap per message, writing only the 64 KiB chunks that differ). If
// the heap grew during a discarded message, the module is re-instantiated with
// a memory of the committed size. Stable memory is
// journaled per 4 KiB page in JS (see stable-memory.mjs), so it is never copied.

import { gunzipSync } from 'node:zlib';
import { sha256 } from '@noble/hashes/sha2.js';
import { instrument, COUNTER_EXPORT, START_EXPORT } from './instrument.mjs';
import { LIMITS } from './module-limits.mjs';
import { buildIc0, CanisterTrap, countedInstructions, meteredInstructions, outOfInstructions } from './system-api.mjs';
import { StableMemory, WASM_PAGE, OS_PAGE } from './stable-memory.mjs';
import { Kind } from './ic0-imports.mjs';
import { Principal } from '@icp-sdk/core/principal';

/** An error that the IC reports with an error code (e.g. IC0503) and a reject code. */
export class CanisterError extends Error {
  constructor(errorCode, rejectCode, message) {
    super(message);
    this.errorCode = errorCode;
    this.rejectCode = rejectCode;
  }
}

const TRAP_ERROR_CODES = {
  called_trap: 'IC0503', // CanisterCalledTrap
  trapped: 'IC0502', // CanisterTrapped
  contract: 'IC0504', // CanisterContractViolation
  instructions: 'IC0522', // CanisterInstructionLimitExceeded
};

const V8_TRAP_MESSAGES = [
  [/unreachable/, 'unreachable'],
  [/memory access out of bounds/, 'heap out of bounds'],
  [/divide by zero/, 'integer division by 0'],
  [/remainder by zero/, 'integer division by 0'],
  [/integer overflow|unrepresentable/, 'integer overflow'],
  [/table index is out of bounds|element segment out of bounds/, 'table out of bounds'],
  [/signature mismatch|null function/, 'indirect call signature mismatch'],
];

const MAX_WASM32_PAGES = LIMITS.memoryPages;
const HEAP_CHUNK = 64 * 1024;

/**
 * Makes `target` equal to `source` (same length), writing only the 64 KiB
 * chunks that differ. Comparing is about as fast as copying, but it leaves
 * unchanged (and never-touched, all-zero) pages alone, so they are neither
 * dirtied nor faulted in.
 */
function copyChangedChunks(target, source, changed = null) {
  for (let at = 0; at < source.length; at += HEAP_CHUNK) {
    const end = Math.min(at + HEAP_CHUNK, source.length);
    const from = source.subarray(at, end);
    const to = target.subarray(at, end);
    if (Buffer.compare(from, to) !== 0) {
      to.set(from);
      changed?.push(at);
    }
  }
}

export function isGzip(bytes) {
  return bytes.length >= 3 && bytes[0] === 0x1f && bytes[1] === 0x8b && bytes[2] === 0x08;
}

/** Gunzips (if needed), validates, instruments and compiles a canister module. */
export function compileCode(moduleBytes, canisterText) {
  try {
    const wasm = isGzip(moduleBytes) ? new Uint8Array(gunzipSync(moduleBytes)) : moduleBytes;
    const { bytes, info } = instrument(wasm);
    const module = new WebAssembly.Module(bytes);
    const imported = new Set(WebAssembly.Module.imports(module).filter((i) => i.module === 'ic0').map((i) => i.name));
    return { wasm, module, info, imported, hash: sha256(wasm) };
  } catch (e) {
    throw new CanisterError('IC0505', 5, `Error from Canister ${canisterText}: Canister's Wasm module is not valid: ${e.message}`);
  }
}

export class Canister {
  /**
   * @param {object} p
   * @param {Uint8Array} p.id
   * @param {Uint8Array[]} p.controllers
   * @param {object} p.env  { options, rootKey, subnetId, log(canisterText, text) }
   */
  constructor({ id, controllers, env }) {
    this.id = id;
    this.idText = Principal.fromUint8Array(id).toText();
    this.controllers = controllers;
    this.env = env;
    this.status = 'running';
    this.version = 0;
    this.globalTimer = 0n;
    this.code = null;
    this.pendingRollback = null; // a query's rollback not done yet (runMessage's deferRollback)
    this.runtime = null;
    this.stable = this.newStableMemory();
    this.certifiedData = new Uint8Array(0);
    this.installArg = new Uint8Array(0);
    this.envVars = new Map();
    this.chunks = new Map(); // wasm chunk store: sha256 hex -> bytes
    this.current = null; // the execution context while Wasm runs
    this.stateEpoch = 0; // counts installs: a copy of the canister made before one is stale
  }

  newStableMemory() {
    return new StableMemory({ maxPages: this.env.options.maxStablePages });
  }

  /** The instance (runtime); a rollback a query left pending is done first. */
  get runtime() {
    if (this.pendingRollback) this.settle();
    return this.instanceRuntime;
  }

  set runtime(runtime) {
    this.instanceRuntime = runtime;
  }

  /** Does the rollback a query left pending, if any. */
  settle() {
    const pending = this.pendingRollback;
    if (!pending) return;
    this.pendingRollback = null;
    this.instanceRuntime = this.rollbackRuntime(pending.runtime, pending.globals);
  }

  hasMethod(exportName) {
    return this.code?.info.exportedFunctions.has(exportName) ?? false;
  }

  get heapBytes() {
    return this.runtime?.memory?.buffer.byteLength ?? 0;
  }

  // -------------------------------------------------------------------------
  // Instances

  createRuntime(code, initialPages = code.info.memory?.min) {
    const { options } = this.env;
    let memory = null;
    if (code.info.memory) {
      const limitPages = Math.min(options.maxWasmMemoryPages, MAX_WASM32_PAGES);
      if (initialPages > limitPages) {
        throw new CanisterError('IC0539', 5, `Error from Canister ${this.idText}: Canister exceeded its Wasm memory limit: the module needs ${initialPages} pages, the limit is ${limitPages}.`);
      }
      const maximum = Math.min(code.info.memory.max ?? MAX_WASM32_PAGES, limitPages);
      memory = new WebAssembly.Memory({ initial: initialPages, maximum });
    }
    const runtime = { code, memory, instance: null, counter: null, globals: [], committedHeap: null };
    const host = {
      canister: this,
      options,
      rootKey: this.env.rootKey,
      subnetId: this.env.subnetId,
      execution: () => this.current,
      counter: () => this.current.runtime.counter,
      exhausted: () => this.exhausted(),
      memory: () => this.current.runtime.memory,
      log: (text) => this.env.log(this.idText, text),
    };
    const imports = {
      __: { out_of_instructions: () => this.exhausted() },
      ic0: buildIc0(host, code.imported),
    };
    if (memory) imports.env = { memory };
    runtime.instance = new WebAssembly.Instance(code.module, imports);
    runtime.counter = runtime.instance.exports[COUNTER_EXPORT];
    runtime.globals = code.info.mutableGlobalExports.map((name) => runtime.instance.exports[name]);
    return runtime;
  }

  /** Makes the committed heap equal to the live one; returns the offsets of the 64 KiB chunks that changed. */
  commitHeap(runtime) {
    const changed = [];
    if (!runtime.memory) return changed;
    const live = new Uint8Array(runtime.memory.buffer);
    if (!runtime.committedHeap || runtime.committedHeap.length !== live.length) {
      const grown = new Uint8Array(live.length);
      if (runtime.committedHeap) grown.set(runtime.committedHeap.subarray(0, Math.min(live.length, runtime.committedHeap.length)));
      runtime.committedHeap = grown;
    }
    copyChangedChunks(runtime.committedHeap, live, changed);
    return changed;
  }

  /** Restores heap and globals to the last commit; returns the runtime to use from now on. */
  rollbackRuntime(runtime, globals) {
    let target = runtime;
    if (runtime.memory) {
      const committed = runtime.committedHeap;
      if (runtime.memory.buffer.byteLength === committed.length) {
        copyChangedChunks(new Uint8Array(runtime.memory.buffer), committed);
      } else {
        target = this.createRuntime(runtime.code, committed.length / WASM_PAGE);
        copyChangedChunks(new Uint8Array(target.memory.buffer), committed);
        target.committedHeap = committed;
      }
    }
    target.globals.forEach((g, i) => { g.value = globals[i]; });
    return target;
  }

  // -------------------------------------------------------------------------
  // Execution

  context(kind, { arg = new Uint8Array(0), caller, method = '', limit, maxReplyBytes = 0, replicated = kind !== Kind.query && kind !== Kind.inspect, instructionScale = 1 }) {
    const meteredLimit = meteredInstructions(limit, instructionScale);
    return {
      kind,
      arg,
      caller,
      methodNameBytes: new TextEncoder().encode(method),
      limit: BigInt(limit), // as the canister sees instructions (see instructionScale)
      instructionScale, // each metered instruction counts this many times: in the performance counter, limit and slices
      meteredLimit,
      granted: meteredLimit, // metered instructions put on the counter so far (less than meteredLimit when sliced)
      slice: null, // with slicing: { instructions, done(slices) }
      maxReplyBytes,
      replicated,
      time: this.env.now(),
      envVars: this.envVars,
      replyParts: [],
      replySize: 0,
      response: null, // { reply: Uint8Array } | { reject: string }
      accepted: false,
      certifiedData: null,
      globalTimer: null,
      runtime: null,
    };
  }

  /**
   * The instruction counter went negative: a sliced message gets its next slice (and reports the slices it
   * has used up), anything else has hit its limit.
   */
  exhausted() {
    const ctx = this.current;
    const { counter } = ctx.runtime;
    while (counter.value < 0n) {
      if (!ctx.slice || ctx.granted >= ctx.meteredLimit) throw outOfInstructions(ctx);
      const left = ctx.meteredLimit - ctx.granted;
      const grant = left < ctx.slice.instructions ? left : ctx.slice.instructions;
      ctx.granted += grant;
      counter.value += grant;
      ctx.slice.done(++ctx.slice.count);
    }
  }

  /** Runs one exported function; returns null or { errorCode, message }. */
  invoke(runtime, exportName, ctx) {
    ctx.runtime = runtime;
    this.current = ctx;
    try {
      runtime.instance.exports[exportName]();
      return null;
    } catch (e) {
      return this.describeTrap(e);
    } finally {
      this.current = null;
    }
  }

  describeTrap(e) {
    if (e instanceof CanisterTrap) return { errorCode: TRAP_ERROR_CODES[e.kind], message: e.message };
    if (e instanceof WebAssembly.RuntimeError) {
      const known = V8_TRAP_MESSAGES.find(([re]) => re.test(e.message));
      return { errorCode: 'IC0502', message: `Canister trapped: ${known ? known[1] : e.message}` };
    }
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      return { errorCode: 'IC0502', message: 'Canister trapped: stack overflow' };
    }
    throw e;
  }

  applyEffects(ctx) {
    if (ctx.certifiedData) this.certifiedData = ctx.certifiedData;
    if (ctx.globalTimer !== null) this.globalTimer = ctx.globalTimer;
  }

  /**
   * Executes an update, query or inspect_message entry point. With `withDelta`, a committed update also returns
   * what it changed (see applyDelta), so a copy of the canister elsewhere can follow. With `slice`
   * ({ instructions, done(count) }), the message runs in slices of that many instructions and done(count) is
   * called each time one more is used up (the message is known to need more than count slices). With
   * `deferRollback`, a query's heap rollback (a pass over the whole heap) is left for settle(), which runs
   * before anything else uses the instance, so the caller can reply first. With `params.instructionScale` k, every
   * metered instruction counts k times (the limit, the slices, the performance counter and the result's
   * `instructions`): a small model then takes the time of one k times as costly.
   * @returns {{ trap, response, accepted, instructions, delta? }}
   */
  runMessage(kind, exportName, params, { withDelta = false, slice = null, deferRollback = false } = {}) {
    const runtime = this.runtime;
    const ctx = this.context(kind, params);
    const sliceInstructions = slice && meteredInstructions(slice.instructions, ctx.instructionScale);
    if (slice && sliceInstructions < ctx.meteredLimit) {
      ctx.slice = { instructions: sliceInstructions, done: slice.done, count: 0 };
      ctx.granted = ctx.slice.instructions;
    }
    const globals = runtime.globals.map((g) => g.value);
    this.stable.begin();
    runtime.counter.value = ctx.granted;
    const trap = this.invoke(runtime, exportName, ctx);
    const instructions = Number(countedInstructions(ctx, ctx.granted - runtime.counter.value));
    let delta;
    if (!trap && kind === Kind.update) {
      const stablePages = withDelta ? [...this.stable.journal.keys()] : [];
      const chunks = this.commitHeap(runtime);
      this.stable.commit();
      this.applyEffects(ctx);
      if (withDelta) {
        const heap = runtime.committedHeap;
        delta = {
          heapBytes: heap ? heap.length : 0,
          chunks: chunks.map((at) => [at, heap.slice(at, Math.min(at + HEAP_CHUNK, heap.length))]),
          globals: runtime.globals.map((g) => g.value),
          stableSizePages: this.stable.sizePages,
          stablePages: stablePages.map((osPage) => [osPage, this.stable.osPageBytes(osPage).slice()]),
          certifiedData: ctx.certifiedData,
          globalTimer: ctx.globalTimer,
        };
      }
    } else if (deferRollback && kind === Kind.query) {
      this.stable.rollback();
      this.pendingRollback = { runtime, globals };
    } else {
      this.runtime = this.rollbackRuntime(runtime, globals);
      this.stable.rollback();
    }
    return { trap, response: ctx.response, accepted: ctx.accepted, instructions, delta };
  }

  /** Applies an update's changes made by a copy of this canister (runMessage with `withDelta`) as one commit. */
  applyDelta(delta) {
    const runtime = this.runtime;
    if (runtime.memory) {
      const grow = (delta.heapBytes - runtime.memory.buffer.byteLength) / WASM_PAGE;
      if (grow > 0) {
        runtime.memory.grow(grow);
        this.commitHeap(runtime); // resizes the committed copy
      }
      const live = new Uint8Array(runtime.memory.buffer);
      for (const [at, bytes] of delta.chunks) {
        live.set(bytes, at);
        runtime.committedHeap.set(bytes, at);
      }
    }
    runtime.globals.forEach((g, i) => { g.value = delta.globals[i]; });
    this.stable.begin();
    if (delta.stableSizePages > this.stable.sizePages) this.stable.grow(delta.stableSizePages - this.stable.sizePages);
    for (const [osPage, bytes] of delta.stablePages) this.stable.write(osPage * OS_PAGE, bytes);
    this.stable.commit();
    this.applyEffects(delta);
  }

  /** The committed state, for making a copy of this canister in a worker (restoreSnapshot). */
  snapshot() {
    return {
      wasm: this.code.wasm,
      heap: this.runtime.committedHeap,
      globals: this.runtime.globals.map((g) => g.value),
      stableSizePages: this.stable.sizePages,
      stablePages: this.stable.pages,
      certifiedData: this.certifiedData,
      globalTimer: this.globalTimer,
    };
  }

  /** Becomes a copy of the canister whose snapshot() this is. */
  restoreSnapshot(snapshot) {
    const code = compileCode(snapshot.wasm, this.idText);
    const runtime = this.createRuntime(code, snapshot.heap ? snapshot.heap.length / WASM_PAGE : undefined);
    if (runtime.memory) {
      new Uint8Array(runtime.memory.buffer).set(snapshot.heap);
      runtime.committedHeap = snapshot.heap;
    }
    runtime.globals.forEach((g, i) => { g.value = snapshot.globals[i]; });
    this.stable = this.newStableMemory();
    this.stable.sizePages = snapshot.stableSizePages;
    this.stable.pages = snapshot.stablePages;
    this.runtime = runtime;
    this.code = code;
    this.certifiedData = snapshot.certifiedData;
    this.globalTimer = snapshot.globalTimer;
  }

  /**
   * install / reinstall / upgrade, or `restore` (re-instantiate persisted state:
   * start + post_upgrade without pre_upgrade). Atomic.
   * @returns {{ trap, instructions }}
   */
  install({ mode, code, arg, caller, limit, skipPreUpgrade = false }) {
    const total = BigInt(limit);
    let remaining = total;
    const step = (kind) => this.context(kind, { arg, caller, limit: total });
    const old = this.runtime;
    const oldStable = this.stable;
    const oldGlobals = old ? old.globals.map((g) => g.value) : null;
    let oldTouched = false;
    const keepsStable = mode === 'upgrade' || mode === 'restore';

    const fail = (trap) => {
      if (oldTouched) this.runtime = this.rollbackRuntime(old, oldGlobals);
      if (keepsStable) this.stable.rollback();
      else this.stable = oldStable;
      return { trap, instructions: Number(total - remaining) };
    };
    const run = (runtime, exportName, kind, ctx = step(kind)) => {
      runtime.counter.value = remaining;
      const trap = this.invoke(runtime, exportName, ctx);
      remaining = runtime.counter.value;
      return { trap, ctx };
    };

    if (keepsStable) this.stable.begin();
    else { this.stable = this.newStableMemory(); this.stable.begin(); }

    const effects = [];
    if (mode === 'upgrade' && old && !skipPreUpgrade && this.hasMethod('canister_pre_upgrade')) {
      oldTouched = true;
      const { trap, ctx } = run(old, 'canister_pre_upgrade', Kind.preUpgrade);
      if (trap) return fail(trap);
      effects.push(ctx);
    }
    let runtime;
    try {
      runtime = this.createRuntime(code);
    } catch (e) {
      if (e instanceof CanisterError) return fail({ errorCode: e.errorCode, message: e.message });
      return fail({ errorCode: 'IC0505', message: `Canister's Wasm module could not be instantiated: ${e.message}` });
    }
    if (code.info.hasStart) {
      const { trap } = run(runtime, START_EXPORT, Kind.start);
      if (trap) return fail(trap);
    }
    const entry = keepsStable ? 'canister_post_upgrade' : 'canister_init';
    if (code.info.exportedFunctions.has(entry)) {
      const { trap, ctx } = run(runtime, entry, keepsStable ? Kind.postUpgrade : Kind.init);
      if (trap) return fail(trap);
      effects.push(ctx);
    }

    this.commitHeap(runtime);
    this.stable.commit();
    this.runtime = runtime;
    this.code = code;
    this.stateEpoch++;
    this.installArg = arg;
    if (mode !== 'restore') this.version++;
    if (!keepsStable) { this.certifiedData = new Uint8Array(0); this.globalTimer = 0n; }
    for (const ctx of effects) this.applyEffects(ctx);
    return { trap: null, instructions: Number(total - remaining) };
  }
}
