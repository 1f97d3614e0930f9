#!/usr/bin/env node
// IC cost of the kernels, measured the way the IC meters: the module is disassembled with wasm2wat, every
// basic block is charged the static sum of its instructions' costs (the IC's table, the one the local replica
// meters with: local-replica/src/instruction-costs.mjs; function entry +1) into an exported i64 global `__cost`,
// the result is reassembled and run on real shapes. This gives exact per-call totals (including all loop, tail
// and dispatch overhead), which are then divided by the MAC count.
// Usage: node scripts/kernel-cost.mjs   (prints units/MAC per shape)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { costOf } from '../local-replica/src/instruction-costs.mjs';
import { generate } from './gen-kernels.mjs';

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
      for (let j = blockStart; j < end; j++) k += costOf(body[j].split(/\s+/)[0]);
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

/** The shapes of the brief with their targets (units per MAC, per element for transpose, per row for the screen). */
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
    // the screened LM head's two passes over GPT-2's vocabulary (units per row)
    { name: 'max_lower_bound rows=50260', target: 4, work: 50260, floats: 2 * 50260,
      run: (ex) => ex.max_lower_bound(0, 4 * 50260, 0.001, 50260) },
    { name: 'rows_reaching rows=50260', target: 4.5, work: 50260, floats: 3 * 50260,
      run: (ex) => ex.rows_reaching(8 * 50260, 0, 4 * 50260, 0.001, 1e9, 50260, 50260) },
  ];
}

/** What a shape's work counts: multiply-adds, elements (transpose) or rows (the LM-head screen). */
export function workUnit(name) {
  if (name.startsWith('transpose')) return 'elem';
  return /^(max_lower_bound|rows_reaching)/.test(name) ? 'row' : 'MAC';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of measure(standardShapes())) {
    console.log(`${r.name.padEnd(44)} ${String(r.units).padStart(12)} units  ${r.perWork.toFixed(4)}/${workUnit(r.name)}` +
      (r.target ? `  (target ≤ ${r.target})` : ''));
  }
}
