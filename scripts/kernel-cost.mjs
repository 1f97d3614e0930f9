#!/usr/bin/env node
// IC cost of the kernels, measured the way the IC meters: the module is disassembled with wasm2wat, every
// basic block is charged the static sum of its instructions' costs (table of docs/ic-platform.md, function entry
// +1) into an exported i64 global `__cost`, the result is reassembled and run on real shapes. This gives exact
// per-call totals (including all loop, tail and dispatch overhead), which are then divided by the MAC count.
// Usage: node scripts/kernel-cost.mjs   (prints units/MAC per shape)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './gen-kernels.mjs';

const C0 = new Set(['block', 'else', 'end', 'loop']);
const C2 = new Set(['global.get', 'global.set', 'if', 'br', 'br_if', 'br_table',
  'f32.add', 'f32.sub', 'f32.mul', 'f64.add', 'f64.sub', 'f64.mul', 'f32.ceil', 'f32.floor', 'f32.trunc', 'f32.nearest',
  'f64.ceil', 'f64.floor', 'f64.trunc', 'f64.nearest', 'f32.copysign',
  'f32x4.add', 'f32x4.sub', 'f32x4.mul', 'f64x2.add', 'f64x2.sub', 'f64x2.mul', 'i32x4.mul', 'i8x16.shr_u',
  'i16x8.shl', 'i16x8.shr_s', 'i16x8.shr_u', 'i32x4.shl', 'i32x4.shr_s', 'i32x4.shr_u',
  'i8x16.lt_u', 'i8x16.gt_u', 'i16x8.lt_u', 'i16x8.gt_u', 'i32x4.lt_u', 'i32x4.gt_u',
  'i16x8.extmul_low_i8x16_s', 'i16x8.extmul_high_i8x16_s', 'i32x4.extmul_low_i16x8_s', 'i32x4.extmul_high_i16x8_s',
  'f32x4.ceil', 'f32x4.floor', 'f32x4.trunc', 'f32x4.nearest', 'f32x4.abs', 'f32x4.neg', 'i32x4.trunc_sat_f32x4_s']);
const C3 = new Set(['f32.div', 'f64.copysign', 'f32.eq', 'f32.ne', 'f32.lt', 'f32.gt', 'f32.le', 'f32.ge',
  'f64.eq', 'f64.ne', 'f64.lt', 'f64.gt', 'f64.le', 'f64.ge', 'f32.convert_i32_s', 'f64.convert_i64_s',
  'f32.convert_i64_s', 'f64.convert_i32_s', 'return_call', 'i8x16.shuffle', 'i8x16.popcnt', 'i8x16.shl', 'i8x16.shr_s', 'i64x2.shr_s']);
const C5 = new Set(['f64.div', 'f32.sqrt', 'call', 'table.get', 'table.set', 'ref.is_null', 'f32x4.sqrt']);
const C10 = new Set(['i32.div_s', 'i32.div_u', 'i32.rem_s', 'i32.rem_u', 'i64.div_s', 'i64.div_u', 'i64.rem_s', 'i64.rem_u',
  'call_indirect', 'f32x4.div']);
const C16 = new Set(['f64.convert_i32_u', 'f32.convert_i64_u', 'f32.convert_i32_u', 'f64.convert_i64_u']);
const C18 = new Set(['f32.min', 'f32.max', 'f64.min', 'f64.max']);

/** IC cost of one wasm32 instruction (docs/ic-platform.md; unlisted = 1). */
export function cost(op) {
  if (C0.has(op)) return 0;
  if (C2.has(op)) return 2;
  if (C3.has(op)) return 3;
  if (C5.has(op)) return 5;
  if (C10.has(op)) return 10;
  if (C16.has(op)) return 16;
  if (C18.has(op)) return 18;
  if (/^(i32|i64)\.trunc_/.test(op)) return 20;
  if (op === 'memory.size') return 20;
  if (/^(f32x4|f64x2)\.(min|max)$/.test(op)) return 4;
  if (op === 'i64x2.mul') return 4;
  if (/^(memory|table)\.(fill|copy|init)$/.test(op)) return 100;
  if (op === 'memory.grow') return 300;
  return 1;
}

const ENDS_BLOCK = new Set(['block', 'loop', 'if', 'else', 'end', 'br', 'br_if', 'br_table', 'return', 'unreachable']);

export function wat2wasm(watText) {
  const dir = mkdtempSync(join(tmpdir(), 'kcost-'));
  writeFileSync(join(dir, 'k.wat'), watText);
  execFileSync('wat2wasm', [join(dir, 'k.wat'), '-o', join(dir, 'k.wasm')]);
  return readFileSync(join(dir, 'k.wasm'));
}

export function wasm2wat(bytes) {
  const dir = mkdtempSync(join(tmpdir(), 'kcost-'));
  writeFileSync(join(dir, 'k.wasm'), bytes);
  return execFileSync('wasm2wat', [join(dir, 'k.wasm')], { maxBuffer: 1 << 28 }).toString();
}

/** Adds IC-style metering to wasm2wat output: exported mutable i64 global `__cost`. */
export function meter(wat) {
  const lines = wat.split('\n');
  const nGlobals = lines.filter((l) => /^\s*\(global /.test(l)).length;
  const charge = (k) => (k ? [`global.get ${nGlobals}`, `i64.const ${k}`, `i64.add`, `global.set ${nGlobals}`] : []);
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!/^\s*\(func /.test(line)) { out.push(line); i++; continue; }
    out.push(line); i++;
    while (/^\s*\(local /.test(lines[i])) out.push(lines[i++]);
    // body: instructions up to the line that closes the func
    const body = [];
    let closed = false;
    if (/^\s*\(func .*\)\)\s*$/.test(line) && !lines[i].trim().match(/^[a-z]/)) closed = true; // empty body
    while (!closed) {
      let t = lines[i++].replace(/\(;.*?;\)/g, '').trim();
      let tail = '';
      while (t.endsWith(')')) { tail += ')'; t = t.slice(0, -1).trim(); }
      if (t) body.push(t);
      if (tail) { closed = true; body.tailParens = tail; }
    }
    // split into basic blocks; charge each at its start
    let blockStart = 0, first = true;
    const flush = (end) => {
      let k = first ? 1 : 0; first = false;
      for (let j = blockStart; j < end; j++) k += cost(body[j].split(/\s+/)[0]);
      return k;
    };
    const res = [];
    for (let j = 0; j <= body.length; j++) {
      if (j === body.length || (j > blockStart && ENDS_BLOCK.has(body[j - 1].split(/\s+/)[0]))) {
        if (j > blockStart || first) { res.push(...charge(flush(j)), ...body.slice(blockStart, j)); }
        blockStart = j;
      }
    }
    out.push(...res, body.tailParens || ')');
  }
  // module tail: add the global + export before the module's closing ')'
  while (!out[out.length - 1].trim()) out.pop();
  out[out.length - 1] = out[out.length - 1].replace(/\)\s*$/, '');
  out.push(`(global (mut i64) (i64.const 0))`, `(export "__cost" (global ${nGlobals})))`);
  return out.join('\n');
}

let cached;
export function kernelModules() {
  if (!cached) {
    const plain = wat2wasm(generate());
    cached = { plain, metered: wat2wasm(meter(wasm2wat(plain))) };
  }
  return cached;
}

export function instantiate(bytes, pages) {
  const memory = new WebAssembly.Memory({ initial: pages });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { main: { memory } });
  return { memory, ex: inst.exports };
}

/** Runs each shape on the metered module with random data; returns [{name, units, macs, perMac}]. */
export function measure(shapes) {
  const { metered } = kernelModules();
  const results = [];
  for (const s of shapes) {
    const floats = s.floats + 64;
    const { memory, ex } = instantiate(metered, Math.ceil((floats * 4 + 65536) / 65536));
    const f = new Float32Array(memory.buffer);
    for (let i = 0; i < f.length; i++) f[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
    ex.__cost.value = 0n;
    s.run(ex);
    const units = Number(ex.__cost.value);
    results.push({ name: s.name, units, work: s.work, perWork: units / s.work, target: s.target });
  }
  return results;
}

/** The shapes of the brief with their targets (units per MAC, or per element for transpose). */
export function standardShapes() {
  const mm = (rows, n, batch, target) => ({
    name: `matmul rows=${rows} n=${n} batch=${batch}`, target, work: rows * n * batch,
    floats: rows * n + n * batch + rows * batch,
    run: (ex) => ex.matmul(0, rows, 4 * (rows * batch + n * batch), n, 4 * rows * batch, n, rows, n, batch),
  });
  const wrs = (rows, n, mStride, target) => ({
    name: `weighted_row_sum rows=${rows} n=${n} mStride=${mStride}`, target, work: rows * n,
    floats: rows * mStride + rows + n,
    run: (ex) => ex.weighted_row_sum(4 * (rows * mStride + rows), 4 * rows * mStride, 0, mStride, rows, n),
  });
  const tr = (rows, cols, target) => ({
    name: `transpose rows=${rows} cols=${cols}`, target, work: rows * cols, floats: 2 * rows * cols,
    run: (ex) => ex.transpose(4 * rows * cols, 0, rows, cols),
  });
  // matmul_q8: out [batch, rows] f32 at 0, then q [rows, n] int8, x [batch, n] int16, scales, xScales (bytes)
  const q8 = (rows, n, batch, target) => ({
    name: `matmul_q8 rows=${rows} n=${n} batch=${batch}`, target, work: rows * n * batch,
    floats: rows * batch + Math.ceil(rows * n / 4) + Math.ceil(n * batch / 2) + rows + batch + 8,
    run: (ex) => {
      const o = 0, q = 4 * rows * batch, x = q + rows * n + 4, sc = x + 2 * n * batch + 4, xsc = sc + 4 * rows;
      ex.matmul_q8(o, rows, q, n, sc, x, n, xsc, rows, n, batch);
    },
  });
  return [
    q8(768, 768, 1, 0.9), q8(2304, 768, 1, 0.9), q8(3072, 768, 1, 0.9), q8(768, 3072, 1, 0.9), q8(50260, 768, 1, 0.9),
    q8(768, 768, 2, null), q8(768, 768, 4, 0.8), q8(768, 768, 8, 0.7), q8(768, 3072, 8, 0.7),
    mm(768, 768, 1, 1.8), mm(2304, 768, 1, 1.8), mm(3072, 768, 1, 1.8), mm(768, 3072, 1, 1.8), mm(50260, 768, 1, 1.8),
    mm(768, 768, 2, null), mm(768, 768, 4, 1.3), mm(768, 768, 8, 1.3), mm(768, 3072, 8, 1.3), mm(768, 768, 16, 1.3),
    mm(1024, 64, 1, null), // attention scores over a KV cache (head size 64)
    wrs(1024, 64, 768, 2.2), wrs(128, 64, 768, 2.2), wrs(768, 768, 768, 2.2),
    tr(768, 3072, 8), tr(768, 768, 8), tr(1023, 65, 8),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of measure(standardShapes())) {
    console.log(`${r.name.padEnd(44)} ${String(r.units).padStart(12)} units  ${r.perWork.toFixed(4)}/${r.name.startsWith('transpose') ? 'elem' : 'MAC'}` +
      (r.target ? `  (target ≤ ${r.target})` : ''));
  }
}
