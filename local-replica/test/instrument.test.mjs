// Unit tests of the instrumenter without the replica: per-opcode costs
// (including SIMD and saturating truncation), index shifting, start export.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import wabtInit from 'wabt';
import { instrument, COUNTER_EXPORT, START_EXPORT } from '../src/instrument.mjs';
import { LISTED, costOf } from '../src/instruction-costs.mjs';
import { readSections, Reader, SectionId } from '../src/wasm-binary.mjs';
import { wat2wasm } from '../testing/helpers.mjs';

/** Instruments and runs `export` of a module; returns the instructions it used. */
function meter(wat, exportName = 'run') {
  const { bytes, info } = instrument(wat2wasm(wat));
  const imports = { __: { out_of_instructions: () => { throw new Error('out of instructions'); } } };
  if (info.memory) imports.env = { memory: new WebAssembly.Memory({ initial: info.memory.min }) };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports);
  const counter = instance.exports[COUNTER_EXPORT];
  counter.value = 1_000_000n;
  instance.exports[exportName]();
  return { used: Number(1_000_000n - counter.value), instance };
}

const V = '(v128.const i64x2 0 0)';
const OPERANDS = { vv: `${V} ${V}`, v: V, vi: `${V} (i32.const 1)` };
// [instruction, operands, IC cost]; each runs as `(drop (<instruction> <operands>))`.
const SIMD_COSTS = [
  ['i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15', 'vv', 3], ['i8x16.swizzle', 'vv', 1],
  ['i8x16.lt_u', 'vv', 2], ['i8x16.gt_u', 'vv', 2], ['i8x16.le_u', 'vv', 1], ['i16x8.lt_u', 'vv', 2], ['i16x8.gt_u', 'vv', 2],
  ['i32x4.lt_u', 'vv', 2], ['i32x4.gt_u', 'vv', 2], ['i32x4.lt_s', 'vv', 1],
  ['i8x16.popcnt', 'v', 3], ['i8x16.shl', 'vi', 3], ['i8x16.shr_s', 'vi', 3], ['i8x16.shr_u', 'vi', 2], ['i8x16.add', 'vv', 1],
  ['i16x8.extadd_pairwise_i8x16_u', 'v', 2], ['i32x4.extadd_pairwise_i16x8_u', 'v', 3], ['i16x8.extadd_pairwise_i8x16_s', 'v', 1],
  ['i16x8.shl', 'vi', 2], ['i16x8.shr_s', 'vi', 2], ['i16x8.shr_u', 'vi', 2], ['i16x8.mul', 'vv', 1],
  ['i16x8.extmul_high_i8x16_s', 'vv', 2], ['i16x8.extmul_high_i8x16_u', 'vv', 2], ['i16x8.extmul_low_i8x16_s', 'vv', 1],
  ['i32x4.shl', 'vi', 2], ['i32x4.shr_s', 'vi', 2], ['i32x4.shr_u', 'vi', 2], ['i32x4.mul', 'vv', 2], ['i32x4.add', 'vv', 1],
  ['i32x4.extmul_low_i16x8_s', 'vv', 2], ['i32x4.extmul_high_i16x8_u', 'vv', 2], ['i32x4.dot_i16x8_s', 'vv', 1],
  ['i64x2.shl', 'vi', 2], ['i64x2.shr_s', 'vi', 3], ['i64x2.shr_u', 'vi', 2], ['i64x2.mul', 'vv', 4], ['i64x2.extmul_low_i32x4_s', 'vv', 1],
  ['f32x4.ceil', 'v', 2], ['f32x4.floor', 'v', 2], ['f32x4.trunc', 'v', 2], ['f32x4.nearest', 'v', 2], ['f32x4.abs', 'v', 2], ['f32x4.neg', 'v', 2],
  ['f32x4.sqrt', 'v', 5], ['f32x4.add', 'vv', 2], ['f32x4.sub', 'vv', 2], ['f32x4.mul', 'vv', 2], ['f32x4.div', 'vv', 10],
  ['f32x4.min', 'vv', 4], ['f32x4.max', 'vv', 4], ['f32x4.pmin', 'vv', 1], ['f32x4.pmax', 'vv', 1], ['f32x4.eq', 'vv', 1],
  ['f64x2.ceil', 'v', 2], ['f64x2.floor', 'v', 2], ['f64x2.trunc', 'v', 2], ['f64x2.nearest', 'v', 2], ['f64x2.abs', 'v', 2], ['f64x2.neg', 'v', 2],
  ['f64x2.sqrt', 'v', 14], ['f64x2.add', 'vv', 2], ['f64x2.sub', 'vv', 2], ['f64x2.mul', 'vv', 2], ['f64x2.div', 'vv', 12],
  ['f64x2.min', 'vv', 4], ['f64x2.max', 'vv', 5], ['f64x2.pmin', 'vv', 1], ['f64x2.pmax', 'vv', 1],
  ['i32x4.trunc_sat_f32x4_s', 'v', 2], ['i32x4.trunc_sat_f32x4_u', 'v', 4], ['f32x4.convert_i32x4_s', 'v', 1], ['f32x4.convert_i32x4_u', 'v', 4],
  ['i32x4.trunc_sat_f64x2_s_zero', 'v', 2], ['i32x4.trunc_sat_f64x2_u_zero', 'v', 3], ['f64x2.convert_low_i32x4_u', 'v', 1],
  ['f32x4.demote_f64x2_zero', 'v', 1], ['f64x2.promote_low_f32x4', 'v', 1], ['i8x16.bitmask', 'v', 1], ['v128.any_true', 'v', 1],
  ['v128.bitselect', `${V} ${V} ${V}`, 1],
];

test('SIMD instruction costs match the IC table', () => {
  for (const [instruction, operands, cost] of SIMD_COSTS) {
    const args = OPERANDS[operands] ?? operands;
    const constants = args.split('v128.const').length - 1 + (operands === 'vi' ? 1 : 0);
    const { used } = meter(`(module (func (export "run") (drop (${instruction} ${args}))))`);
    // entry 1 + operand constants (1 each) + the instruction + drop 1
    assert.equal(used, 1 + constants + cost + 1, instruction);
  }
});

test('scalar instruction costs match the IC table', () => {
  const cases = [
    ['(f32.min (f32.const 1) (f32.const 2))', 2 + 18], ['(f64.sqrt (f64.const 2))', 1 + 8],
    ['(f32.convert_i32_u (i32.const 1))', 1 + 16], ['(f64.convert_i64_s (i64.const 1))', 1 + 3],
    ['(i32.trunc_f32_s (f32.const 1))', 1 + 20], ['(i64.trunc_sat_f64_u (f64.const 1))', 1 + 20],
    ['(i32.rem_u (i32.const 7) (i32.const 2))', 2 + 10], ['(f64.div (f64.const 1) (f64.const 3))', 2 + 5],
    ['(f32.eq (f32.const 1) (f32.const 1))', 2 + 3], ['(memory.size)', 20], ['(memory.grow (i32.const 0))', 1 + 300],
    ['(global.get $g)', 2], ['(select (i32.const 1) (i32.const 2) (i32.const 0))', 3 + 1],
  ];
  for (const [expr, cost] of cases) {
    const { used } = meter(`(module (memory 1) (global $g (mut i32) (i32.const 0)) (func (export "run") (drop ${expr}))) `);
    assert.equal(used, 1 + cost + 1, expr);
  }
});

// Immediates an instruction needs to be written at all (indices refer to the module around it); else and end
// are written after a wrapper whose two bytes (opcode, empty block type) come first (an else with a branch).
const IMMEDIATES = {
  br: '0', br_if: '0', br_table: '0', call: '0', return_call: '0', call_indirect: '(type 0)',
  return_call_indirect: '(type 0)', 'global.get': '0', 'global.set': '0', 'table.get': '0', 'table.set': '0',
  'ref.func': '0', 'memory.init': '0', 'data.drop': '0', 'table.init': '0', 'elem.drop': '0', 'table.copy': '0 0',
  'table.grow': '0', 'table.size': '0', 'table.fill': '0', 'i8x16.shuffle': '0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15',
};
const WRAPPED = { block: ['', 'end'], loop: ['', 'end'], if: ['', 'end'], else: ['if', 'nop end'], end: ['block', ''] };

test('the cost table names each listed instruction as the text format does (scripts/kernel-cost.mjs reads it by name)', async () => {
  const wabt = await wabtInit();
  for (const { name, prefix, opcode, cost } of LISTED) {
    const [before, after] = WRAPPED[name] ?? ['', ''];
    const wat = `(module (type (func)) (memory 1) (table 1 funcref) (global (mut i32) (i32.const 0)) (data "")
      (elem func 0) (func ${before} ${name} ${IMMEDIATES[name] ?? ''} ${after}))`;
    const module = wabt.parseWat('cost.wat', wat, { simd: true, bulk_memory: true, reference_types: true, tail_call: true });
    let bytes;
    try {
      module.resolveNames(); // not validated: only the encoding of the instruction matters
      bytes = new Uint8Array(module.toBinary({}).buffer);
    } finally {
      module.destroy();
    }
    const code = readSections(bytes).find((s) => s.id === SectionId.code);
    const r = new Reader(bytes, code.start, code.end);
    r.u32(); r.u32(); r.u32(); // one body: its size, no locals
    if (before) { r.byte(); r.byte(); }
    let got = r.byte();
    let gotPrefix = null;
    if (got === 0xfc || got === 0xfd) { gotPrefix = got; got = r.u32(); }
    assert.deepEqual([gotPrefix, got], [prefix, opcode], name);
    assert.equal(costOf(name), cost, name);
  }
  assert.equal(costOf('i32.add'), 1); // unlisted
});

test('function indices shift consistently: calls, call_indirect through tables, ref.func, start', () => {
  const wat = `(module
    (import "ic0" "debug_print" (func $print (param i32 i32)))
    (memory 1)
    (table 2 funcref)
    (elem (i32.const 0) $seven $eight)
    (global $started (mut i32) (i32.const 0))
    (func $seven (result i32) (i32.const 7))
    (func $eight (result i32) (i32.const 8))
    (func $init (global.set $started (i32.const 1)))
    (start $init)
    (type $ret_i32 (func (result i32)))
    (func (export "run") (result i32)
      (drop (ref.func $eight))
      (i32.add (i32.add (call $seven) (call_indirect (type $ret_i32) (i32.const 1)))
               (i32.add (global.get $started) (i32.const 0)))))`;
  const { bytes } = instrument(wat2wasm(wat));
  const module = new WebAssembly.Module(bytes);
  const exports = WebAssembly.Module.exports(module).map((e) => e.name);
  assert.ok(exports.includes(START_EXPORT), 'the start function is exported as canister_start');
  const instance = new WebAssembly.Instance(module, {
    __: { out_of_instructions() {} }, ic0: { debug_print() {} }, env: { memory: new WebAssembly.Memory({ initial: 1 }) },
  });
  instance.exports[COUNTER_EXPORT].value = 1000n;
  assert.equal(instance.exports.run(), 7 + 8 + 0, 'the start section no longer runs at instantiation');
  instance.exports[START_EXPORT]();
  assert.equal(instance.exports.run(), 7 + 8 + 1);
});

test('if/else and return are block boundaries as in the IC', () => {
  const wat = `(module (func (export "run") (local $x i32)
    (if (i32.eqz (local.get $x))
      (then (local.set $x (i32.const 1)))
      (else (local.set $x (i32.const 2)) (local.set $x (i32.const 3))))
    (if (local.get $x) (then (return)))
    (unreachable)))`;
  // entry: 1 + local.get 1 + i32.eqz 1 + if 2 = 5
  // then-branch point: i32.const 1 + local.set 1 + else 0 = 2 (the else point, 4, is skipped)
  // after the first `end`: local.get 1 + if 2 = 3; then-branch: return 1; ends of blocks cost 0
  assert.equal(meter(wat).used, 5 + 2 + 3 + 1);
});
