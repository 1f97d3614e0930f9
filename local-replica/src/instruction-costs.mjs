// Static instruction costs, mirroring `instruction_to_cost` in dfinity/ic
// rs/embedders/src/wasm_utils/instrumentation.rs for wasm32 modules.
// Anything not listed costs 1 (the IC's default arm).
//
// The project's one copy of this table: the replica's instrumenter (instrument.mjs) reads it by opcode, and
// scripts/kernel-cost.mjs (the SIMD kernels' cost per multiply-add) by text-format name, through `costOf`.
// Each entry is `name: opcode` (the 0xFC and 0xFD tables: the opcode after the prefix byte).

/** Costs of single-byte opcodes, indexed by opcode. */
export const OPCODE_COST = new Uint16Array(256).fill(1);
/** Costs of 0xFC-prefixed opcodes (saturating truncation, bulk memory, tables). */
export const FC_COST = new Uint16Array(18).fill(1);
/** Costs of 0xFD-prefixed (SIMD128) opcodes; all loads/stores and unlisted ops cost 1. */
export const FD_COST = new Uint16Array(256).fill(1);

/** Every listed instruction: { name, prefix (null, 0xfc or 0xfd), opcode, cost }. */
export const LISTED = [];
const BY_NAME = new Map();

const PREFIX = new Map([[OPCODE_COST, null], [FC_COST, 0xfc], [FD_COST, 0xfd]]);
const set = (table, ops, cost) => {
  for (const [name, opcode] of Object.entries(ops)) {
    table[opcode] = cost;
    LISTED.push({ name, prefix: PREFIX.get(table), opcode, cost });
    BY_NAME.set(name, cost);
  }
};

/** IC cost of one instruction by its text-format name (`f32x4.mul`); unlisted ones cost 1. */
export function costOf(name) {
  return BY_NAME.get(name) ?? 1;
}

set(OPCODE_COST, { block: 0x02, loop: 0x03, else: 0x05, end: 0x0b }, 0);
set(OPCODE_COST, { if: 0x04, br: 0x0c, br_if: 0x0d, br_table: 0x0e }, 2);
set(OPCODE_COST, { call: 0x10 }, 5);
set(OPCODE_COST, { call_indirect: 0x11 }, 10);
set(OPCODE_COST, { return_call: 0x12 }, 3);
set(OPCODE_COST, { return_call_indirect: 0x13 }, 60);
set(OPCODE_COST, { 'global.get': 0x23, 'global.set': 0x24 }, 2);
set(OPCODE_COST, { 'table.get': 0x25, 'table.set': 0x26 }, 5);
set(OPCODE_COST, { 'memory.size': 0x3f }, 20);
set(OPCODE_COST, { 'memory.grow': 0x40 }, 300);
set(OPCODE_COST, { // f32/f64 comparisons
  'f32.eq': 0x5b, 'f32.ne': 0x5c, 'f32.lt': 0x5d, 'f32.gt': 0x5e, 'f32.le': 0x5f, 'f32.ge': 0x60,
  'f64.eq': 0x61, 'f64.ne': 0x62, 'f64.lt': 0x63, 'f64.gt': 0x64, 'f64.le': 0x65, 'f64.ge': 0x66,
}, 3);
set(OPCODE_COST, { // integer div/rem
  'i32.div_s': 0x6d, 'i32.div_u': 0x6e, 'i32.rem_s': 0x6f, 'i32.rem_u': 0x70,
  'i64.div_s': 0x7f, 'i64.div_u': 0x80, 'i64.rem_s': 0x81, 'i64.rem_u': 0x82,
}, 10);
// f32: ceil floor trunc nearest 2, sqrt 5, add sub mul 2, div 3, min max 18, copysign 2
set(OPCODE_COST, {
  'f32.ceil': 0x8d, 'f32.floor': 0x8e, 'f32.trunc': 0x8f, 'f32.nearest': 0x90,
  'f32.add': 0x92, 'f32.sub': 0x93, 'f32.mul': 0x94, 'f32.copysign': 0x98,
}, 2);
set(OPCODE_COST, { 'f32.sqrt': 0x91 }, 5);
set(OPCODE_COST, { 'f32.div': 0x95 }, 3);
set(OPCODE_COST, { 'f32.min': 0x96, 'f32.max': 0x97 }, 18);
// f64: ceil floor trunc nearest 2, sqrt 8, add sub mul 2, div 5, min max 18, copysign 3
set(OPCODE_COST, {
  'f64.ceil': 0x9b, 'f64.floor': 0x9c, 'f64.trunc': 0x9d, 'f64.nearest': 0x9e,
  'f64.add': 0xa0, 'f64.sub': 0xa1, 'f64.mul': 0xa2,
}, 2);
set(OPCODE_COST, { 'f64.sqrt': 0x9f }, 8);
set(OPCODE_COST, { 'f64.div': 0xa3 }, 5);
set(OPCODE_COST, { 'f64.min': 0xa4, 'f64.max': 0xa5 }, 18);
set(OPCODE_COST, { 'f64.copysign': 0xa6 }, 3);
set(OPCODE_COST, { // float -> int trunc
  'i32.trunc_f32_s': 0xa8, 'i32.trunc_f32_u': 0xa9, 'i32.trunc_f64_s': 0xaa, 'i32.trunc_f64_u': 0xab,
  'i64.trunc_f32_s': 0xae, 'i64.trunc_f32_u': 0xaf, 'i64.trunc_f64_s': 0xb0, 'i64.trunc_f64_u': 0xb1,
}, 20);
set(OPCODE_COST, { // signed int -> float
  'f32.convert_i32_s': 0xb2, 'f32.convert_i64_s': 0xb4, 'f64.convert_i32_s': 0xb7, 'f64.convert_i64_s': 0xb9,
}, 3);
set(OPCODE_COST, { // unsigned int -> float
  'f32.convert_i32_u': 0xb3, 'f32.convert_i64_u': 0xb5, 'f64.convert_i32_u': 0xb8, 'f64.convert_i64_u': 0xba,
}, 16);
set(OPCODE_COST, { 'ref.is_null': 0xd1 }, 5);
set(OPCODE_COST, { 'ref.func': 0xd2 }, 130);

set(FC_COST, {
  'i32.trunc_sat_f32_s': 0, 'i32.trunc_sat_f32_u': 1, 'i32.trunc_sat_f64_s': 2, 'i32.trunc_sat_f64_u': 3,
  'i64.trunc_sat_f32_s': 4, 'i64.trunc_sat_f32_u': 5, 'i64.trunc_sat_f64_s': 6, 'i64.trunc_sat_f64_u': 7,
}, 20);
set(FC_COST, { // static part; the size operand is charged at run time
  'memory.init': 8, 'memory.copy': 10, 'memory.fill': 11, 'table.init': 12, 'table.copy': 14, 'table.fill': 17,
}, 100);
set(FC_COST, { 'data.drop': 9, 'elem.drop': 13, 'table.grow': 15 }, 300);
set(FC_COST, { 'table.size': 16 }, 100);

set(FD_COST, { 'i8x16.shuffle': 13 }, 3);
set(FD_COST, { 'i8x16.lt_u': 38, 'i8x16.gt_u': 40, 'i16x8.lt_u': 48, 'i16x8.gt_u': 50, 'i32x4.lt_u': 58, 'i32x4.gt_u': 60 }, 2);
set(FD_COST, { 'i8x16.popcnt': 98, 'i8x16.shl': 107, 'i8x16.shr_s': 108 }, 3);
set(FD_COST, { 'i8x16.shr_u': 109 }, 2);
set(FD_COST, { 'i16x8.extadd_pairwise_i8x16_u': 125 }, 2);
set(FD_COST, { 'i32x4.extadd_pairwise_i16x8_u': 127 }, 3);
set(FD_COST, { 'i16x8.shl': 139, 'i16x8.shr_s': 140, 'i16x8.shr_u': 141 }, 2);
set(FD_COST, { 'i16x8.extmul_high_i8x16_s': 157, 'i16x8.extmul_high_i8x16_u': 159 }, 2); // the low halves cost 1
set(FD_COST, { 'i32x4.shl': 171, 'i32x4.shr_s': 172, 'i32x4.shr_u': 173 }, 2);
set(FD_COST, { 'i32x4.mul': 181 }, 2);
set(FD_COST, {
  'i32x4.extmul_low_i16x8_s': 188, 'i32x4.extmul_high_i16x8_s': 189,
  'i32x4.extmul_low_i16x8_u': 190, 'i32x4.extmul_high_i16x8_u': 191,
}, 2);
set(FD_COST, { 'i64x2.shl': 203, 'i64x2.shr_u': 205 }, 2);
set(FD_COST, { 'i64x2.shr_s': 204 }, 3);
set(FD_COST, { 'i64x2.mul': 213 }, 4);
set(FD_COST, {
  'f32x4.ceil': 103, 'f32x4.floor': 104, 'f32x4.trunc': 105, 'f32x4.nearest': 106,
  'f32x4.abs': 224, 'f32x4.neg': 225, 'f32x4.add': 228, 'f32x4.sub': 229, 'f32x4.mul': 230,
}, 2);
set(FD_COST, { 'f32x4.sqrt': 227 }, 5);
set(FD_COST, { 'f32x4.div': 231 }, 10);
set(FD_COST, { 'f32x4.min': 232, 'f32x4.max': 233 }, 4);
set(FD_COST, {
  'f64x2.ceil': 116, 'f64x2.floor': 117, 'f64x2.trunc': 122, 'f64x2.nearest': 148,
  'f64x2.abs': 236, 'f64x2.neg': 237, 'f64x2.add': 240, 'f64x2.sub': 241, 'f64x2.mul': 242,
}, 2);
set(FD_COST, { 'f64x2.sqrt': 239 }, 14);
set(FD_COST, { 'f64x2.div': 243 }, 12);
set(FD_COST, { 'f64x2.min': 244 }, 4);
set(FD_COST, { 'f64x2.max': 245 }, 5);
set(FD_COST, { 'i32x4.trunc_sat_f32x4_s': 248 }, 2);
set(FD_COST, { 'i32x4.trunc_sat_f32x4_u': 249 }, 4);
set(FD_COST, { 'f32x4.convert_i32x4_u': 251 }, 4);
set(FD_COST, { 'i32x4.trunc_sat_f64x2_s_zero': 252 }, 2);
set(FD_COST, { 'i32x4.trunc_sat_f64x2_u_zero': 253 }, 3);
