#!/usr/bin/env node
// The IC module gate: lists every reason the Internet Computer would refuse (or we forbid) a canister module.
// Sources: platform/ic0-imports.json (System API signatures), platform/module-limits.json (limits, entry points,
// reserved exports; shared with the local replica) and docs/ic-platform.md (features; where every fact comes from).
// CLI: wasm-gate.mjs <module.wasm>... exits 1 and prints the problems if any module fails.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import binaryenModule from 'binaryen';

// ic0 imports by exact Wasm signature, "<params>-><results>" (wasm32: I = i32); anything else fails to install.
const IC0 = Object.fromEntries(Object.entries(JSON.parse(
  readFileSync(new URL('../../platform/ic0-imports.json', import.meta.url), 'utf8')).imports)
  .map(([name, { params, results }]) => [name, `${params.join(',')}->${results.join(',')}`]));

// Limits (each a maximum), entry points and the export names the IC reserves.
const MODULE = JSON.parse(readFileSync(new URL('../../platform/module-limits.json', import.meta.url), 'utf8'));
export const LIMITS = Object.fromEntries(Object.entries(MODULE.limits).map(([name, { max }]) => [name, max]));
const SYSTEM_ENTRY_POINTS = new Set(MODULE.systemEntryPoints);
const METHOD_PREFIXES = MODULE.methodPrefixes;
const RESERVED_EXPORTS = new Set(MODULE.reservedExports);

const VALUE_TYPES = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
const IMPORT_KINDS = ['function', 'table', 'memory', 'global', 'tag'];

/** Splits a module into sections and decodes what the gate needs; throws on malformed input. */
export function parseModule(bytes) {
  let pos = 0;
  const byte = () => {
    if (pos >= bytes.length) throw new Error('unexpected end of module');
    return bytes[pos++];
  };
  const u32 = () => {
    let result = 0, shift = 0, b;
    do { b = byte(); result += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return result;
  };
  const name = () => { const n = u32(); const s = Buffer.from(bytes.subarray(pos, pos + n)).toString('utf8'); pos += n; return s; };
  const limits = () => { const flags = byte(); const min = u32(); const max = flags & 1 ? u32() : undefined; return { flags, min, max }; };
  const valueType = () => { const t = byte(); if (!(t in VALUE_TYPES)) throw new Error(`value type 0x${t.toString(16)} (GC/typed references)`); return VALUE_TYPES[t]; };

  if (bytes.length < 8 || Buffer.from(bytes.subarray(0, 4)).toString('latin1') !== '\0asm') throw new Error('not a Wasm module');
  pos = 8;
  const m = { types: [], imports: [], definedFunctionTypes: [], tables: 0, memories: [], globals: 0, exports: [], tags: 0,
    customSections: [], codeSectionBytes: 0, bodySizes: [] };
  while (pos < bytes.length) {
    const id = byte();
    const size = u32();
    const end = pos + size;
    if (end > bytes.length) throw new Error(`section ${id} runs past the end of the module`);
    switch (id) {
      case 0: m.customSections.push({ name: name(), size: end - pos }); break;
      case 1: for (let n = u32(); n > 0; n--) {
        const form = byte();
        if (form !== 0x60) throw new Error(`type form 0x${form.toString(16)} (GC proposal)`);
        const params = Array.from({ length: u32() }, valueType);
        const results = Array.from({ length: u32() }, valueType);
        m.types.push(`${params.join(',')}->${results.join(',')}`);
      } break;
      case 2: for (let n = u32(); n > 0; n--) {
        const imp = { module: name(), name: name(), kind: IMPORT_KINDS[byte()] ?? 'unknown' };
        if (imp.kind === 'function') imp.type = m.types[u32()];
        else if (imp.kind === 'table') { valueType(); limits(); }
        else if (imp.kind === 'memory') m.memories.push({ imported: true, ...limits() });
        else if (imp.kind === 'global') { valueType(); byte(); }
        else if (imp.kind === 'tag') { byte(); u32(); }
        m.imports.push(imp);
      } break;
      case 3: m.definedFunctionTypes = Array.from({ length: u32() }, () => m.types[u32()]); break;
      case 4: m.tables = u32(); break;
      case 5: for (let n = u32(); n > 0; n--) m.memories.push({ imported: false, ...limits() }); break;
      case 6: m.globals = u32(); break;
      case 7: for (let n = u32(); n > 0; n--) {
        const exp = { name: name(), kind: IMPORT_KINDS[byte()] ?? 'unknown', index: u32() };
        m.exports.push(exp);
      } break;
      case 10: m.codeSectionBytes = size; for (let n = u32(); n > 0; n--) { const s = u32(); m.bodySizes.push(s); pos += s; } break;
      case 13: m.tags = u32(); break;
      default: break;
    }
    pos = end;
  }
  return m;
}

export function checkModule(bytes) {
  const problems = [];
  if (bytes.length > LIMITS.moduleBytes) problems.push(`module is ${bytes.length} bytes (limit ${LIMITS.moduleBytes})`);
  let m;
  try {
    m = parseModule(bytes);
  } catch (e) {
    return [...problems, `cannot decode the module: ${e.message}`];
  }

  for (const imp of m.imports) {
    const what = `${imp.module}.${imp.name}`;
    if (imp.kind !== 'function') problems.push(`imports ${imp.kind} ${what} (only ic0 functions may be imported)`);
    else if (imp.module !== 'ic0') problems.push(`imports ${what} (only ic0.* is provided by the IC)`);
    else if (!(imp.name in IC0)) problems.push(`imports ${what}, which is not in the IC System API`);
    else if (IC0[imp.name] !== imp.type) problems.push(`imports ${what} as (${imp.type}), the IC's signature is (${IC0[imp.name]})`);
  }
  if (m.tags > 0) problems.push('declares exception tags (exception handling is not supported)');
  if (m.memories.length > 1) problems.push(`declares ${m.memories.length} memories (multi-memory is not supported)`);
  for (const mem of m.memories) {
    if (mem.flags & 2) problems.push('declares a shared memory (threads are not supported)');
    if (mem.flags & 4) problems.push('declares a 64-bit memory (memory64 is not used by this project)');
    if (mem.max === undefined) problems.push('memory has no declared maximum');
    else if (mem.max >= LIMITS.memoryPages) problems.push(`memory maximum is ${mem.max} pages (must stay below 4 GiB)`);
  }

  // Function index space: imported functions first, then the defined ones.
  const functionTypes = [...m.imports.filter((i) => i.kind === 'function').map((i) => i.type), ...m.definedFunctionTypes];
  if (functionTypes.length > LIMITS.functions) problems.push(`${functionTypes.length} functions (limit ${LIMITS.functions})`);
  if (m.globals > LIMITS.globals) problems.push(`${m.globals} globals (limit ${LIMITS.globals})`);
  if (m.codeSectionBytes > LIMITS.codeSectionBytes) problems.push(`code section is ${m.codeSectionBytes} bytes (limit ${LIMITS.codeSectionBytes})`);
  // Every instruction takes at least one byte, so a body within the limit in bytes is within it in instructions.
  const hugeBodies = m.bodySizes.filter((s) => s > LIMITS.functionBodyInstructions).length;
  if (hugeBodies > 0) problems.push(`${hugeBodies} function bodies exceed ${LIMITS.functionBodyInstructions} bytes and may exceed the instruction limit`);

  const icpSections = m.customSections.filter((s) => /^icp:(public|private) ./.test(s.name));
  for (const s of m.customSections) {
    if (!icpSections.includes(s)) problems.push(`custom section "${s.name}" (only "icp:public <name>" / "icp:private <name>" are allowed)`);
  }
  if (icpSections.length > LIMITS.customSections) problems.push(`${icpSections.length} icp: custom sections (limit ${LIMITS.customSections})`);
  const icpBytes = icpSections.reduce((sum, s) => sum + s.size, 0);
  if (icpBytes > LIMITS.customSectionBytes) problems.push(`icp: custom sections total ${icpBytes} bytes (limit ${LIMITS.customSectionBytes})`);

  const methodNames = new Set();
  let methodNameBytes = 0;
  for (const exp of m.exports) {
    if (RESERVED_EXPORTS.has(exp.name)) { problems.push(`exports reserved name "${exp.name}"`); continue; }
    if (!exp.name.startsWith('canister_')) continue;
    const prefix = METHOD_PREFIXES.find((p) => exp.name.startsWith(p));
    if (prefix) {
      const method = exp.name.slice(prefix.length);
      if (method.length === 0) problems.push(`export "${exp.name}" has an empty method name`);
      if (methodNames.has(method)) problems.push(`method "${method}" is exported more than once`);
      methodNames.add(method);
      methodNameBytes += Buffer.byteLength(method);
    } else if (!SYSTEM_ENTRY_POINTS.has(exp.name)) {
      problems.push(`exports "${exp.name}", which is not an IC entry point`);
      continue;
    }
    if (exp.kind !== 'function') problems.push(`entry point "${exp.name}" is a ${exp.kind}, not a function`);
    else if (functionTypes[exp.index] !== '->') problems.push(`entry point "${exp.name}" has type (${functionTypes[exp.index]}), must be () -> ()`);
  }
  if (methodNames.size > LIMITS.methods) problems.push(`${methodNames.size} canister methods (limit ${LIMITS.methods})`);
  if (methodNameBytes > LIMITS.methodNameBytes) problems.push(`method names total ${methodNameBytes} bytes (limit ${LIMITS.methodNameBytes})`);

  problems.push(...featureProblems(bytes));
  return problems;
}

/**
 * Wasm features: binaryen re-validates the module with only the features the IC enables (so GC, exception
 * handling, tail calls, relaxed SIMD, threads, memory64 and multi-memory fail), and wabt's wasm-validate,
 * whose defaults are the same set, gives a second opinion when installed.
 */
function featureProblems(bytes) {
  const problems = [];
  const F = binaryenModule.Features;
  const allowed = [F.MutableGlobals, F.NontrappingFPToInt, F.SIMD128, F.BulkMemory, F.BulkMemoryOpt,
    F.SignExt, F.ReferenceTypes, F.Multivalue, F.CallIndirectOverlong].filter((f) => f !== undefined)
    .reduce((a, b) => a | b, F.MVP);
  let module;
  try {
    module = binaryenModule.readBinary(bytes);
    module.setFeatures(allowed);
    if (!module.validate()) problems.push('uses Wasm features the IC does not enable (binaryen validation errors above)');
  } catch (e) {
    problems.push(`binaryen cannot read the module: ${e.message ?? e}`);
  } finally {
    module?.dispose();
  }
  const dir = mkdtempSync(join(tmpdir(), 'wasm-gate-'));
  try {
    writeFileSync(join(dir, 'module.wasm'), bytes);
    execFileSync('wasm-validate', [join(dir, 'module.wasm')], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    if (e.code !== 'ENOENT') problems.push(`wasm-validate (default features) refuses it: ${e.stderr?.toString().trim()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return problems;
}

/** Appends a custom section; an existing one with the same name is an error to keep the result unambiguous. */
export function withCustomSection(bytes, sectionName, content) {
  if (parseModule(bytes).customSections.some((s) => s.name === sectionName)) throw new Error(`custom section ${sectionName} already present`);
  const nameBytes = Buffer.from(sectionName, 'utf8');
  const payload = Buffer.concat([leb128(nameBytes.length), nameBytes, content]);
  return Buffer.concat([bytes, Buffer.from([0]), leb128(payload.length), payload]);
}

function leb128(value) {
  const out = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return Buffer.from(out);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let failed = false;
  for (const file of process.argv.slice(2)) {
    const problems = checkModule(readFileSync(file));
    if (problems.length > 0) {
      failed = true;
      console.error(`${file}: REFUSED\n` + problems.map((p) => '  - ' + p).join('\n'));
    } else {
      console.log(`${file}: ok`);
    }
  }
  process.exit(failed ? 1 : 0);
}
