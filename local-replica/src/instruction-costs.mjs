// Static instruction costs, mirroring `instruction_to_cost` in dfinity/ic
// rs/embedders/src/wasm_utils/instrumentation.rs for wasm32 modules.
// Anything not listed costs 1 (the IC's default arm).

/** Costs of single-byte opcodes, indexed by opcode. */
export const OPCODE_COST = new Uint16Array(256).fill(1);
const set = (table, ops, cost) => { for (const op of ops) table[op] = cost; };
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

set(OPCODE_COST, [0x02, 0x03, 0x05, 0x0b], 0); // block, loop, else, end
set(OPCODE_COST, [0x04, 0x0c, 0x0d, 0x0e], 2); // if, br, br_if, br_table
set(OPCODE_COST, [0x10], 5); // call
set(OPCODE_COST, [0x11], 10); // call_indirect
set(OPCODE_COST, [0x12], 3); // return_call
set(OPCODE_COST, [0x13], 60); // return_call_indirect
set(OPCODE_COST, [0x23, 0x24], 2); // global.get/set
set(OPCODE_COST, [0x25, 0x26], 5); // table.get/set
set(OPCODE_COST, [0x3f], 20); // memory.size
set(OPCODE_COST, [0x40], 300); // memory.grow
set(OPCODE_COST, range(0x5b, 0x66), 3); // f32/f64 comparisons
set(OPCODE_COST, [0x6d, 0x6e, 0x6f, 0x70, 0x7f, 0x80, 0x81, 0x82], 10); // integer div/rem
// f32: ceil floor trunc nearest 2, sqrt 5, add sub mul 2, div 3, min max 18, copysign 2
set(OPCODE_COST, [0x8d, 0x8e, 0x8f, 0x90, 0x92, 0x93, 0x94, 0x98], 2);
set(OPCODE_COST, [0x91], 5);
set(OPCODE_COST, [0x95], 3);
set(OPCODE_COST, [0x96, 0x97], 18);
// f64: ceil floor trunc nearest 2, sqrt 8, add sub mul 2, div 5, min max 18, copysign 3
set(OPCODE_COST, [0x9b, 0x9c, 0x9d, 0x9e, 0xa0, 0xa1, 0xa2], 2);
set(OPCODE_COST, [0x9f], 8);
set(OPCODE_COST, [0xa3], 5);
set(OPCODE_COST, [0xa4, 0xa5], 18);
set(OPCODE_COST, [0xa6], 3);
set(OPCODE_COST, [0xa8, 0xa9, 0xaa, 0xab, 0xae, 0xaf, 0xb0, 0xb1], 20); // float -> int trunc
set(OPCODE_COST, [0xb2, 0xb4, 0xb7, 0xb9], 3); // signed int -> float
set(OPCODE_COST, [0xb3, 0xb5, 0xb8, 0xba], 16); // unsigned int -> float
set(OPCODE_COST, [0xd1], 5); // ref.is_null
set(OPCODE_COST, [0xd2], 130); // ref.func

/** Costs of 0xFC-prefixed opcodes (saturating truncation, bulk memory, tables). */
export const FC_COST = new Uint16Array(18).fill(1);
set(FC_COST, range(0, 7), 20); // *.trunc_sat_*
set(FC_COST, [8, 10, 11, 12, 14, 17], 100); // memory.init/copy/fill, table.init/copy/fill (static part)
set(FC_COST, [9, 13, 15], 300); // data.drop, elem.drop, table.grow
set(FC_COST, [16], 100); // table.size

/** Costs of 0xFD-prefixed (SIMD128) opcodes; all loads/stores and unlisted ops cost 1. */
export const FD_COST = new Uint16Array(256).fill(1);
set(FD_COST, [13], 3); // i8x16.shuffle
set(FD_COST, [38, 40, 48, 50, 58, 60], 2); // i8x16/i16x8/i32x4 lt_u, gt_u
set(FD_COST, [98, 107, 108], 3); // i8x16.popcnt, shl, shr_s
set(FD_COST, [109], 2); // i8x16.shr_u
set(FD_COST, [125], 2); // i16x8.extadd_pairwise_i8x16_u
set(FD_COST, [127], 3); // i32x4.extadd_pairwise_i16x8_u
set(FD_COST, [139, 140, 141], 2); // i16x8 shifts
set(FD_COST, [157, 159], 2); // i16x8.extmul_high_i8x16_s/u
set(FD_COST, [171, 172, 173], 2); // i32x4 shifts
set(FD_COST, [181], 2); // i32x4.mul
set(FD_COST, [188, 189, 190, 191], 2); // i32x4.extmul_*
set(FD_COST, [203, 205], 2); // i64x2.shl, shr_u
set(FD_COST, [204], 3); // i64x2.shr_s
set(FD_COST, [213], 4); // i64x2.mul
set(FD_COST, [103, 104, 105, 106, 224, 225, 228, 229, 230], 2); // f32x4 ceil floor trunc nearest abs neg add sub mul
set(FD_COST, [227], 5); // f32x4.sqrt
set(FD_COST, [231], 10); // f32x4.div
set(FD_COST, [232, 233], 4); // f32x4.min/max
set(FD_COST, [116, 117, 122, 148, 236, 237, 240, 241, 242], 2); // f64x2 ceil floor trunc nearest abs neg add sub mul
set(FD_COST, [239], 14); // f64x2.sqrt
set(FD_COST, [243], 12); // f64x2.div
set(FD_COST, [244], 4); // f64x2.min
set(FD_COST, [245], 5); // f64x2.max
set(FD_COST, [248], 2); // i32x4.trunc_sat_f32x4_s
set(FD_COST, [249], 4); // i32x4.trunc_sat_f32x4_u
set(FD_COST, [251], 4); // f32x4.convert_i32x4_u
set(FD_COST, [252], 2); // i32x4.trunc_sat_f64x2_s_zero
set(FD_COST, [253], 3); // i32x4.trunc_sat_f64x2_u_zero
