// Validation and instruction-metering instrumentation of canister Wasm modules.
//
// This mirrors dfinity/ic rs/embedders/src/wasm_utils/instrumentation.rs
// (`injections`, `inject_metering`, `export_additional_symbols`):
//
//  * An import `__.out_of_instructions : () -> ()` is inserted as function 0, so
//    every function index of the original module shifts by one (calls, ref.func,
//    exports, element segments, global initialisers; the start function).
//  * A mutable i64 global (the instruction counter, exported as
//    "canister counter_instructions") is appended. The host sets it to the
//    message's instruction limit before running an entry point; what is left
//    afterwards gives the instructions used.
//  * Each function body is split into injection points exactly like the IC:
//      - the function entry is a re-entrant point whose cost starts at 1;
//      - after `loop` a new re-entrant point starts;
//      - after `if` a new non-reentrant point starts;
//      - after `else`, `br`, `br_if`, `br_table`, `end`, `return`, `unreachable`,
//        `return_call`, `return_call_indirect` a new ("block end") point starts;
//      - `block` is not a boundary (cost 0, it just continues the current point).
//    Each point is charged up front with the static sum of `instruction_to_cost`
//    of the instructions that follow it up to the next boundary (the boundary
//    instruction included). Re-entrant points additionally check the counter
//    and call `out_of_instructions` when it is negative. Non-reentrant points
//    with a zero cost are dropped.
//  * Before `memory.fill/copy/init` and `table.fill/copy/init` the runtime size
//    operand is charged by calling an injected helper `(i64) -> (i64)` that
//    subtracts it (saturating), checks the counter and returns its argument.
//  * The `start` section is removed and the start function is exported as
//    `canister_start`, so the host can run it with a metered budget.
//
// Deviations needed by this JS host (not affecting instruction counts):
//  * The module's memory is turned into an import `env.memory`, so a rollback
//    after `memory.grow` can re-instantiate with a memory of the old size.
//  * Every mutable global is exported as `__persistent_mutable_global_<i>`
//    (as the IC also does) so the host can snapshot and restore them.
//  * The `name` custom section is dropped (its function indices would be stale).

import { Reader, Writer, WasmError, SectionId, ValType, readSections, readLimits, writeLimits } from './wasm-binary.mjs';
import { OPCODE_COST, FC_COST, FD_COST } from './instruction-costs.mjs';
import { IC0_IMPORTS, parseSignature } from './ic0-imports.mjs';
// Limits enforced by the IC's validation (validation.rs / embedders config), entry points and reserved exports.
import { LIMITS, METHOD_PREFIXES, RESERVED_EXPORTS, SYSTEM_ENTRY_POINTS } from './module-limits.mjs';

export const COUNTER_EXPORT = 'canister counter_instructions';
export const START_EXPORT = 'canister_start';
export const MUTABLE_GLOBAL_EXPORT_PREFIX = '__persistent_mutable_global_';
export const OUT_OF_INSTRUCTIONS_IMPORT = ['__', 'out_of_instructions'];
export const MEMORY_IMPORT = ['env', 'memory'];

// Injection point scopes (as in the IC).
const REENTRANT = 0;
const NON_REENTRANT = 1;
const BLOCK_END = 2;
const DYNAMIC = 3;

/**
 * Validates and instruments a canister module.
 * @param {Uint8Array} bytes the (already gunzipped) module
 * @returns {{ bytes: Uint8Array, info: ModuleInfo }}
 */
export function instrument(bytes) {
  const sections = readSections(bytes);
  const module = parseModule(bytes, sections);
  validate(module);
  return { bytes: encode(bytes, sections, module), info: moduleInfo(module, bytes) };
}

// ---------------------------------------------------------------------------
// Parsing (only what instrumentation and validation need).

function parseModule(bytes, sections) {
  const m = {
    types: [], imports: [], funcTypes: [], memories: [], globals: [], exports: [],
    start: undefined, numImportedFuncs: 0, customSections: [], codeSize: 0, dataOffsets: [],
  };
  for (const s of sections) {
    const r = new Reader(bytes, s.start, s.end);
    switch (s.id) {
      case SectionId.custom: {
        const name = r.name();
        m.customSections.push({ name, start: r.pos, end: s.end });
        break;
      }
      case SectionId.type:
        for (let n = r.u32(); n > 0; n--) {
          const form = r.byte();
          if (form !== 0x60) throw new WasmError('only function types are supported (no GC types)');
          const params = Array.from({ length: r.u32() }, () => r.byte());
          const results = Array.from({ length: r.u32() }, () => r.byte());
          m.types.push({ params, results });
        }
        break;
      case SectionId.import:
        for (let n = r.u32(); n > 0; n--) {
          const imp = { module: r.name(), name: r.name(), kind: r.byte() };
          if (imp.kind === 0) { imp.type = r.u32(); m.numImportedFuncs++; }
          else if (imp.kind === 1) { r.byte(); readLimits(r); }
          else if (imp.kind === 2) readLimits(r);
          else if (imp.kind === 3) { r.byte(); r.byte(); }
          else throw new WasmError(`unsupported import kind ${imp.kind}`);
          m.imports.push(imp);
        }
        break;
      case SectionId.function:
        for (let n = r.u32(); n > 0; n--) m.funcTypes.push(r.u32());
        break;
      case SectionId.memory:
        for (let n = r.u32(); n > 0; n--) m.memories.push(readLimits(r));
        break;
      case SectionId.global:
        for (let n = r.u32(); n > 0; n--) {
          const type = r.byte();
          const mutable = r.byte() === 1;
          skipConstExpr(r);
          m.globals.push({ type, mutable });
        }
        break;
      case SectionId.export:
        for (let n = r.u32(); n > 0; n--) m.exports.push({ name: r.name(), kind: r.byte(), index: r.u32() });
        break;
      case SectionId.start:
        m.start = r.u32();
        break;
      case SectionId.code:
        m.codeSize = s.end - s.start;
        break;
      case SectionId.data:
        for (let n = r.u32(); n > 0; n--) {
          const flags = r.u32();
          if (flags === 1) { r.bytesN(r.u32()); continue; }
          if (flags === 2) r.u32();
          const exprStart = r.pos;
          skipConstExpr(r);
          m.dataOffsets.push(bytes.subarray(exprStart, r.pos));
          r.bytesN(r.u32());
        }
        break;
      default:
        break;
    }
  }
  return m;
}

/** Skips a constant expression (up to and including its `end`). */
function skipConstExpr(r) {
  copyConstExpr(r, null, 0);
}

/**
 * Copies a constant expression, shifting `ref.func` indices by `shift`.
 * With `w === null` it only skips it.
 */
function copyConstExpr(r, w, shift) {
  for (;;) {
    const start = r.pos;
    const op = r.byte();
    switch (op) {
      case 0x0b: if (w) w.byte(op); return;
      case 0x41: case 0x42: r.skipLeb(); break; // i32.const, i64.const
      case 0x43: r.bytesN(4); break;
      case 0x44: r.bytesN(8); break;
      case 0x23: r.u32(); break; // global.get
      case 0xd0: r.byte(); break; // ref.null
      case 0xd2: { // ref.func
        const idx = r.u32();
        if (w) w.byte(0xd2).u32(idx + shift);
        continue;
      }
      case 0xfd: // v128.const
        if (r.u32() !== 12) throw new WasmError('unsupported SIMD op in constant expression');
        r.bytesN(16);
        break;
      case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: break; // extended const
      default: throw new WasmError(`unsupported opcode 0x${op.toString(16)} in constant expression`);
    }
    if (w) w.bytes(r.bytes.subarray(start, r.pos));
  }
}

// ---------------------------------------------------------------------------
// Validation (the cheap subset of the IC's validation.rs).

function validate(m) {
  for (const imp of m.imports) {
    if (imp.kind !== 0) {
      const what = ['function', 'table', 'memory', 'global'][imp.kind];
      throw new WasmError(`Wasm module imports a ${what} '${imp.module}.${imp.name}': only functions from 'ic0' may be imported (a module must define its own memory and tables; imported globals are not allowed)`);
    }
    const spec = imp.module === 'ic0' ? IC0_IMPORTS[imp.name] : undefined;
    if (!spec) {
      throw new WasmError(`Module imports function '${imp.name}' from '${imp.module}' that is not exported by the runtime.`);
    }
    const want = parseSignature(spec.sig);
    const got = m.types[imp.type];
    if (!got || !sameTypes(got.params, want.params) || !sameTypes(got.results, want.results)) {
      throw new WasmError(`Module imports function '${imp.name}' from 'ic0' with an incorrect signature (expected ${spec.sig.replaceAll('i', 'i32 ').replaceAll('I', 'i64 ').trim()}).`);
    }
  }
  if (m.memories.length > 1) throw new WasmError(`Wasm module defines ${m.memories.length} memories; at most one is allowed.`);
  if (m.numImportedFuncs + m.funcTypes.length > LIMITS.functions) throw new WasmError(`Wasm module defines too many functions (limit ${LIMITS.functions}).`);
  if (m.globals.length > LIMITS.globals) throw new WasmError(`Wasm module defines too many globals (limit ${LIMITS.globals}).`);
  if (m.codeSize > LIMITS.codeSectionBytes) throw new WasmError(`Wasm module code section is too large (${m.codeSize} bytes, limit ${LIMITS.codeSectionBytes}).`);
  for (const off of m.dataOffsets) {
    if (off[0] !== 0x41) throw new WasmError('data segment offsets must be a single i32.const expression');
  }

  const methodNames = new Map();
  let methodCount = 0;
  let methodBytes = 0;
  for (const exp of m.exports) {
    if (RESERVED_EXPORTS.has(exp.name) || exp.name.startsWith(MUTABLE_GLOBAL_EXPORT_PREFIX)) {
      throw new WasmError(`Exporting reserved function '${exp.name}' is not allowed.`);
    }
    if (!exp.name.startsWith('canister_')) continue;
    const prefix = METHOD_PREFIXES.find((p) => exp.name.startsWith(p));
    if (!prefix && !SYSTEM_ENTRY_POINTS.has(exp.name)) {
      throw new WasmError(`Exporting reserved function '${exp.name}' with "canister_" prefix`);
    }
    if (exp.kind !== 0) throw new WasmError(`Export '${exp.name}' must be a function.`);
    const type = m.types[functionType(m, exp.index)];
    if (!type || type.params.length || type.results.length) {
      throw new WasmError(`Expected the function '${exp.name}' to have type () -> ().`);
    }
    if (prefix) {
      const name = exp.name.slice(prefix.length);
      if (methodNames.has(name)) throw new WasmError(`Duplicate function '${name}' exported multiple times with different call types: ${methodNames.get(name)} and ${prefix.trim()}.`);
      methodNames.set(name, prefix.trim());
      methodCount++;
      methodBytes += new TextEncoder().encode(name).length;
    }
  }
  if (methodCount > LIMITS.methods) throw new WasmError(`Wasm module exports too many methods (limit ${LIMITS.methods}).`);
  if (methodBytes > LIMITS.methodNameBytes) throw new WasmError(`Wasm module method names are too long in total (limit ${LIMITS.methodNameBytes} bytes).`);
}

function sameTypes(a, b) {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

function functionType(m, funcIndex) {
  if (funcIndex < m.numImportedFuncs) return m.imports.filter((i) => i.kind === 0)[funcIndex].type;
  return m.funcTypes[funcIndex - m.numImportedFuncs];
}

function moduleInfo(m, bytes) {
  const metadata = new Map(); // `icp:public <name>` / `icp:private <name>` custom sections
  for (const c of m.customSections) {
    const match = /^icp:(public|private) (.+)$/.exec(c.name);
    if (match) metadata.set(match[2], { visibility: match[1], data: bytes.slice(c.start, c.end) });
  }
  const exported = new Set(m.exports.filter((e) => e.kind === 0).map((e) => e.name));
  const mutableGlobalExports = [];
  m.globals.forEach((g, i) => { if (g.mutable) mutableGlobalExports.push(MUTABLE_GLOBAL_EXPORT_PREFIX + i); });
  return {
    exportedFunctions: exported,
    hasStart: m.start !== undefined,
    memory: m.memories[0] ?? null, // {min, max} in 64 KiB pages
    mutableGlobalExports,
    metadata,
  };
}

// ---------------------------------------------------------------------------
// Encoding the instrumented module.

function encode(bytes, sections, m) {
  const typeVoid = m.types.length; // () -> ()        for out_of_instructions
  const typeDecr = m.types.length + 1; // (i64) -> (i64) for the dynamic-cost helper
  const counterGlobal = m.globals.length; // appended global
  const shift = 1; // out_of_instructions is prepended to the function imports
  const decrFunc = shift + m.numImportedFuncs + m.funcTypes.length; // appended function
  const ctx = { counterGlobal, decrFunc, shift };

  const original = new Map(sections.filter((s) => s.id !== SectionId.custom).map((s) => [s.id, s]));
  const reader = (id) => {
    const s = original.get(id);
    return s ? new Reader(bytes, s.start, s.end) : null;
  };
  const payloads = new Map();
  const section = (id, fill) => {
    const w = new Writer();
    fill(w, reader(id));
    payloads.set(id, w);
  };

  section(SectionId.type, (w, r) => {
    w.u32(m.types.length + 2);
    if (r) w.bytes(bytes.subarray(r.pos + lebLength(bytes, r.pos), r.end));
    w.byte(0x60).u32(0).u32(0); // () -> ()
    w.byte(0x60).u32(1).byte(ValType.i64).u32(1).byte(ValType.i64); // (i64) -> (i64)
  });
  section(SectionId.import, (w, r) => {
    const count = r ? r.u32() : 0;
    w.u32(count + 1 + (m.memories.length ? 1 : 0));
    w.name(OUT_OF_INSTRUCTIONS_IMPORT[0]).name(OUT_OF_INSTRUCTIONS_IMPORT[1]).byte(0).u32(typeVoid);
    if (r) w.bytes(bytes.subarray(r.pos, r.end));
    if (m.memories.length) {
      w.name(MEMORY_IMPORT[0]).name(MEMORY_IMPORT[1]).byte(2);
      writeLimits(w, m.memories[0]);
    }
  });
  section(SectionId.function, (w) => {
    w.u32(m.funcTypes.length + 1);
    for (const t of m.funcTypes) w.u32(t);
    w.u32(typeDecr);
  });
  section(SectionId.global, (w, r) => {
    if (r) r.u32();
    w.u32(m.globals.length + 1);
    for (let i = 0; i < m.globals.length; i++) {
      w.byte(r.byte()).byte(r.byte());
      copyConstExpr(r, w, shift);
    }
    w.byte(ValType.i64).byte(1).byte(0x42).byte(0).byte(0x0b); // (mut i64) (i64.const 0)
  });
  section(SectionId.export, (w) => writeExports(w, m, ctx));
  if (original.has(SectionId.element)) section(SectionId.element, (w, r) => writeElements(w, r, shift));
  section(SectionId.code, (w, r) => writeCode(w, bytes, r, ctx));
  // Copied verbatim: table, data count, data. Memory and start are dropped (see header).
  for (const id of [SectionId.table, SectionId.dataCount, SectionId.data]) {
    const s = original.get(id);
    if (s) payloads.set(id, new Writer(0).bytes(bytes.subarray(s.start, s.end)));
  }

  const out = new Writer(bytes.length + (bytes.length >> 2) + 1024);
  out.bytes(bytes.subarray(0, 8));
  const order = [SectionId.type, SectionId.import, SectionId.function, SectionId.table, SectionId.global,
    SectionId.export, SectionId.element, SectionId.dataCount, SectionId.code, SectionId.data];
  for (const id of order) if (payloads.has(id)) out.byte(id).sized(payloads.get(id));
  for (const c of m.customSections) {
    if (c.name === 'name') continue;
    const w = new Writer().name(c.name).bytes(bytes.subarray(c.start, c.end));
    out.byte(SectionId.custom).sized(w);
  }
  return out.finish().slice();
}

function lebLength(bytes, pos) {
  let n = 1;
  while (bytes[pos + n - 1] & 0x80) n++;
  return n;
}

function writeExports(w, m, { counterGlobal, shift }) {
  const extra = [];
  extra.push({ name: COUNTER_EXPORT, kind: 3, index: counterGlobal });
  if (m.start !== undefined) extra.push({ name: START_EXPORT, kind: 0, index: m.start + shift });
  m.globals.forEach((g, i) => { if (g.mutable) extra.push({ name: MUTABLE_GLOBAL_EXPORT_PREFIX + i, kind: 3, index: i }); });
  w.u32(m.exports.length + extra.length);
  for (const e of m.exports) w.name(e.name).byte(e.kind).u32(e.kind === 0 ? e.index + shift : e.index);
  for (const e of extra) w.name(e.name).byte(e.kind).u32(e.index);
}

function writeElements(w, r, shift) {
  const count = r.u32();
  w.u32(count);
  for (let n = 0; n < count; n++) {
    const flags = r.u32();
    w.u32(flags);
    const usesExprs = (flags & 4) !== 0;
    if (flags & 1) {
      w.byte(r.byte()); // passive or declarative: elemkind / reftype only
    } else {
      if (flags & 2) w.u32(r.u32()); // table index
      copyConstExpr(r, w, shift);
      if (flags & 2) w.byte(r.byte()); // elemkind / reftype
    }
    const items = r.u32();
    w.u32(items);
    for (let i = 0; i < items; i++) {
      if (usesExprs) copyConstExpr(r, w, shift);
      else w.u32(r.u32() + shift);
    }
  }
}

function writeDecrFunction(w, { counterGlobal: c }) {
  // (func (param i64) (result i64) (local i64) ...) — same logic as the IC's helper.
  const body = new Writer();
  body.u32(1).u32(1).byte(ValType.i64);
  body.byte(0x23).u32(c).byte(0x20).u32(0).byte(0x7d) // global.get c; local.get 0; i64.sub
    .byte(0x22).u32(1) // local.tee 1
    .byte(0x23).u32(c).byte(0x55) // global.get c; i64.gt_s  (underflow?)
    .byte(0x04).byte(ValType.i64) // if (result i64)
    .byte(0x42).sleb(-(2n ** 63n)) // i64.const i64::MIN
    .byte(0x05).byte(0x20).u32(1) // else local.get 1
    .byte(0x0b).byte(0x24).u32(c) // end; global.set c
    .byte(0x23).u32(c).byte(0x42).byte(0).byte(0x53) // global.get c; i64.const 0; i64.lt_s
    .byte(0x04).byte(0x40).byte(0x10).u32(0).byte(0x0b) // if call out_of_instructions end
    .byte(0x20).u32(0).byte(0x0b); // local.get 0; end
  w.sized(body);
}

function writeCode(w, bytes, r, ctx) {
  const count = r ? r.u32() : 0;
  w.u32(count + 1);
  for (let i = 0; i < count; i++) {
    const size = r.u32();
    const end = r.pos + size;
    const body = instrumentBody(bytes, r.pos, end, ctx);
    w.u32(body.len).bytes(body.finish());
    r.pos = end;
  }
  writeDecrFunction(w, ctx);
}

// ---------------------------------------------------------------------------
// Function bodies.

/**
 * Scans one function body, computes the IC's injection points and writes the
 * instrumented body. Instruction bytes are copied verbatim except for function
 * indices (call, return_call, ref.func), which are shifted.
 */
function instrumentBody(bytes, start, end, ctx) {
  const r = new Reader(bytes, start, end);
  for (let n = r.u32(); n > 0; n--) { r.u32(); r.byte(); } // local declarations
  const codeStart = r.pos;

  // Injection points: parallel arrays (offset, scope, cost). Function-index
  // patches: offsets of the immediate (start, end) and the original index.
  const points = [];
  const patches = [];
  let curr = { offset: codeStart, scope: REENTRANT, cost: 1 };

  while (r.pos < end) {
    const at = r.pos;
    const op = r.byte();
    let cost = OPCODE_COST[op];
    let boundary = -1; // scope of the point that starts after this instruction
    switch (op) {
      case 0x02: skipBlockType(r); break; // block: not a boundary in the IC
      case 0x03: skipBlockType(r); boundary = REENTRANT; break; // loop
      case 0x04: skipBlockType(r); boundary = NON_REENTRANT; break; // if
      case 0x05: case 0x0b: boundary = BLOCK_END; break; // else, end
      case 0x0c: case 0x0d: r.u32(); boundary = BLOCK_END; break; // br, br_if
      case 0x0e: for (let n = r.u32() + 1; n > 0; n--) r.u32(); boundary = BLOCK_END; break; // br_table
      case 0x00: case 0x0f: boundary = BLOCK_END; break; // unreachable, return
      case 0x10: case 0x12: { // call, return_call
        const immStart = r.pos;
        const index = r.u32();
        patches.push({ offset: immStart, end: r.pos, index });
        if (op === 0x12) boundary = BLOCK_END;
        break;
      }
      case 0x11: case 0x13: r.u32(); r.u32(); if (op === 0x13) boundary = BLOCK_END; break;
      case 0x1c: for (let n = r.u32(); n > 0; n--) r.byte(); break; // select t*
      case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26: r.u32(); break;
      case 0x3f: case 0x40: r.byte(); break; // memory.size/grow
      case 0x41: case 0x42: r.skipLeb(); break;
      case 0x43: r.pos += 4; break;
      case 0x44: r.pos += 8; break;
      case 0xd0: r.byte(); break; // ref.null
      case 0xd2: { // ref.func
        const immStart = r.pos;
        const index = r.u32();
        patches.push({ offset: immStart, end: r.pos, index });
        break;
      }
      case 0xfc: {
        const sub = r.u32();
        if (sub >= FC_COST.length) throw new WasmError(`unsupported instruction 0xfc ${sub}`);
        cost = FC_COST[sub];
        switch (sub) {
          case 8: r.u32(); r.byte(); break; // memory.init
          case 9: case 13: case 15: case 16: r.u32(); break; // data.drop, elem.drop, table.grow/size
          case 10: r.byte(); r.byte(); break; // memory.copy
          case 11: r.byte(); break; // memory.fill
          case 12: case 14: r.u32(); r.u32(); break; // table.init, table.copy
          case 17: r.u32(); break; // table.fill
          default: break; // trunc_sat
        }
        if (sub === 8 || sub === 10 || sub === 11 || sub === 12 || sub === 14 || sub === 17) {
          points.push({ offset: at, scope: DYNAMIC, cost: 0 });
        }
        break;
      }
      case 0xfd: {
        const sub = r.u32();
        if (sub > 255) throw new WasmError(`relaxed SIMD instruction 0xfd ${sub} is not allowed`);
        cost = FD_COST[sub];
        if (sub <= 11 || sub === 92 || sub === 93) { r.u32(); r.u32(); } // memarg
        else if (sub === 12 || sub === 13) r.pos += 16; // v128.const, i8x16.shuffle
        else if (sub >= 21 && sub <= 34) r.byte(); // lane index
        else if (sub >= 84 && sub <= 91) { r.u32(); r.u32(); r.byte(); } // memarg + lane
        break;
      }
      default:
        if (op >= 0x28 && op <= 0x3e) { r.u32(); r.u32(); } // loads/stores: memarg
        else if (op === 0x1a || op === 0x1b || op === 0x01 || (op >= 0x45 && op <= 0xc4) || op === 0xd1) { /* no immediates */ }
        else throw new WasmError(`unsupported instruction opcode 0x${op.toString(16)} (exceptions, threads, GC and tail calls are not supported)`);
    }
    curr.cost += cost;
    if (boundary >= 0) {
      points.push(curr);
      if (r.pos === end) break; // the function's final `end`
      curr = { offset: r.pos, scope: boundary, cost: 0 };
    }
  }
  if (r.pos > end) throw new WasmError('function body overruns its declared size');

  const kept = points
    .filter((p) => p.scope === REENTRANT || p.scope === DYNAMIC || p.cost > 0)
    .sort((a, b) => a.offset - b.offset); // stable: a dynamic point precedes a static one at the same offset

  const w = new Writer((end - start) * 2 + 64);
  w.bytes(bytes.subarray(start, codeStart));
  let copied = codeStart;
  let pi = 0;
  let qi = 0;
  while (pi < kept.length || qi < patches.length) {
    const p = kept[pi];
    const q = patches[qi];
    if (p && (!q || p.offset <= q.offset)) {
      w.bytes(bytes.subarray(copied, p.offset));
      copied = p.offset;
      writeInjection(w, p, ctx);
      pi++;
    } else {
      w.bytes(bytes.subarray(copied, q.offset));
      w.u32(q.index + ctx.shift);
      copied = q.end;
      qi++;
    }
  }
  w.bytes(bytes.subarray(copied, end));
  return w;
}

function writeInjection(w, point, { counterGlobal: c, decrFunc }) {
  if (point.scope === DYNAMIC) {
    // i64.extend_i32_u; call decr; i32.wrap_i64 (the size operand is an i32 in wasm32)
    w.byte(0xad).byte(0x10).u32(decrFunc).byte(0xa7);
    return;
  }
  w.byte(0x23).u32(c).byte(0x42).sleb(point.cost).byte(0x7d).byte(0x24).u32(c);
  if (point.scope === REENTRANT) {
    w.byte(0x23).u32(c).byte(0x42).byte(0).byte(0x53).byte(0x04).byte(0x40).byte(0x10).u32(0).byte(0x0b);
  }
}

function skipBlockType(r) {
  const b = r.bytes[r.pos];
  if (b === 0x40 || (b >= 0x6f && b <= 0x7f)) r.pos++;
  else r.skipLeb();
}
