#!/usr/bin/env node
// Generates the hand-designed SIMD kernels (kernels.wat; the loops are unrolled too far to write by hand). The
// Maven build runs it into model-canister/target/kernels.wat and refuses output whose SHA-256 differs from the
// pin in model-canister/src/main/wat/kernels.wat.sha256, so a change of the kernels is always deliberate:
// after editing the generator, run the node tests of the kernels, then write the new hash into the pin.
// Usage: gen-kernels.mjs [--output=<kernels.wat>] [--pinned-sha256=<file>]   (defaults: the build's paths)
//
// Costs quoted below are IC instruction-metering units (docs/ic-platform.md, "Instruction metering"):
// local.get/set/tee 1, i32 arithmetic 1, v128.load/store (any kind) 1, f32x4.add/mul 2, f32.add/mul 2,
// br_if/br_table/if 2, extract_lane/splat/select 1, call 5, block/loop/end 0.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// matmul: chunks (4 floats) of x kept in v128 locals per column panel. 192 chunks = 768 floats covers
// n_embd in one panel and n_inner=3072 in four, so per-row overhead is paid once per 768 MACs.
export const MM_PANEL = 192;
export const MM_GROUPS = [8, 4, 2, 1]; // batch vectors per pass sharing the loads of m
// weighted_row_sum: 16 chunks = 64 floats (one attention head) of accumulators, 8 rows per pass.
export const WRS_PANEL = 16;
export const WRS_ROWS = 8;

const L = [];
const emit = (...lines) => { for (const l of lines) L.push(l); };

// Duff's device over `count` unrolled steps: executes steps k-1, k-2, ..., 0 where k = local $kLocal (0..count).
// Blocks E_0 (outer) .. E_count (inner); br_table index k jumps to the end of E_k, after which steps k-1..0 follow.
// With `valueType`, every block yields that type and `start` (pushed inside the innermost block) is carried
// through the steps, so a running sum stays on the operand stack. Dispatch costs local.get + br_table = 3.
function duff(count, kLocal, step, { valueType = null, start = [] } = {}) {
  const res = valueType ? ` (result ${valueType})` : '';
  for (let i = 0; i <= count; i++) emit(`block${res}`);
  emit(...start, `local.get ${kLocal}`);
  const depths = [];
  for (let i = 0; i <= count; i++) depths.push(count - i);
  emit(`br_table ${depths.join(' ')} 0`);
  for (let j = count - 1; j >= 0; j--) { emit('end'); emit(...step(j)); }
  emit('end');
}

// ---------------------------------------------------------------------------------------------------- matmul
/**
 * How the f32 and the int8 matmul groups differ: weights and their locals, chunk size, x element size, the weight
 * load, the multiply-accumulate and the lane type of the running sums.
 */
const F32_CHUNKS = {
  weights: '$m', weightStride: '$msb', weightPointer: '$pm', length: '$ncb',
  chunkShift: 4, // a chunk is 4 floats = 16 bytes of weights
  xByteOffset: [], // x has 4-byte elements like the weights
  align: 4,
  loadWeights: (j) => `v128.load offset=${16 * j} align=4`,
  multiply: 'f32x4.mul', accumulate: 'f32x4.add', lanes: 'f32x4', add: 'f32.add', store: 'f32.store align=4',
};
const Q8_CHUNKS = {
  weights: '$q', weightStride: '$qsb', weightPointer: '$pq', length: '$n8',
  chunkShift: 3, // a chunk is 8 int8 weights = 8 bytes
  xByteOffset: ['i32.const 1', 'i32.shl'], // x has 2-byte elements
  align: 1,
  loadWeights: (j) => `v128.load8x8_s offset=${8 * j} align=1`,
  multiply: 'i32x4.dot_i16x8_s', accumulate: 'i32x4.add', lanes: 'i32x4', add: 'i32.add', store: 'i32.store align=1',
};

/** The locals and the column-panel loops of one matmul group of G batch vectors (see $mm1 / $q8mm1 above them). */
function genPanelLoops(kind, G, U) {
  const { weights, weightStride: ws, weightPointer: pw, length, chunkShift, align } = kind;
  emit(`(local $c0 i32) (local $k i32) (local $more i32) (local ${pw} i32) (local $po i32) (local $poEnd i32) (local $xb i32) (local $pb i32) (local $h v128)`);
  for (let b = 1; b < G; b++) emit(`(local $ob${b} i32)`);
  for (let b = 0; b < G; b++) emit(Array.from({ length: U }, (_, j) => `(local $x${b}_${j} v128)`).join(' '));
  if (G > 1) emit(Array.from({ length: U }, (_, j) => `(local $m${j} v128)`).join(' '));
  for (let b = 1; b < G; b++) emit(`local.get ${b === 1 ? '$osb' : `$ob${b - 1}`}`, ...(b === 1 ? [] : ['local.get $osb', 'i32.add']), `local.set $ob${b}`);
  emit(`local.get $out`, `local.get $rows`, `i32.const 2`, `i32.shl`, `i32.add`, `local.set $poEnd`);
  emit(`loop $panel`);
  emit(`;; k = min(${U}, chunks left)`,
    `local.get ${length}`, `local.get $c0`, `i32.sub`, `i32.const ${chunkShift}`, `i32.shr_u`, `local.set $k`,
    `i32.const ${U}`, `local.get $k`, `local.get $k`, `i32.const ${U}`, `i32.gt_u`, `select`, `local.set $k`);
  emit(`;; x panel -> locals (once per panel: amortised over all rows)`);
  emit(`local.get $x`, `local.get $c0`, ...kind.xByteOffset, `i32.add`, `local.set $xb`);
  for (let b = 0; b < G; b++) {
    if (b > 0) emit(`local.get $xb`, `local.get $xsb`, `i32.add`, `local.set $xb`);
    duff(U, '$k', (j) => [`local.get $xb`, `v128.load offset=${16 * j} align=${align}`, `local.set $x${b}_${j}`]);
  }
  emit(`local.get ${weights}`, `local.get $c0`, `i32.add`, `local.set ${pw}`, `local.get $out`, `local.set $po`);
  emit(`loop $row`);
  for (let b = 0; b < G; b++) {
    const addr = b === 0 ? '$po' : '$pb';
    if (b > 0) emit(`local.get $po`, `local.get $ob${b}`, `i32.add`, `local.set $pb`);
    emit(`local.get ${addr}`);
    duff(U, '$k', (j) => {
      if (b > 0) return [`local.get $m${j}`, `local.get $x${b}_${j}`, kind.multiply, kind.accumulate];
      return [`local.get ${pw}`, kind.loadWeights(j), ...(G > 1 ? [`local.tee $m${j}`] : []),
        `local.get $x0_${j}`, kind.multiply, kind.accumulate];
    }, {
      valueType: 'v128',
      // chain start: [sum so far, 0, 0, 0] after the first panel, zero in the first (select never traps on the
      // discarded load, which stays inside the output range).
      start: [`local.get ${addr}`, `v128.load32_zero align=${align}`, `v128.const i32x4 0 0 0 0`, `local.get $more`, `select`],
    });
    emit(`local.tee $h`, `${kind.lanes}.extract_lane 0`, `local.get $h`, `${kind.lanes}.extract_lane 1`, kind.add,
      `local.get $h`, `${kind.lanes}.extract_lane 2`, kind.add, `local.get $h`, `${kind.lanes}.extract_lane 3`, kind.add,
      kind.store);
  }
  emit(`local.get ${pw}`, `local.get ${ws}`, `i32.add`, `local.set ${pw}`,
    `local.get $po`, `i32.const 4`, `i32.add`, `local.tee $po`, `local.get $poEnd`, `i32.ne`, `br_if $row`);
  emit(`end`);
  emit(`i32.const 1`, `local.set $more`,
    `local.get $c0`, `local.get $k`, `i32.const ${chunkShift}`, `i32.shl`, `i32.add`, `local.tee $c0`, `local.get ${length}`, `i32.lt_u`, `br_if $panel`);
  emit(`end`);
  emit(`)`);
}

function genMatmulGroup(G) {
  const U = MM_PANEL;
  emit(``,
    `;; $mm${G}: out[b*osb + 4r] = sum_{c<ncb/4} m[r*msb + 4c] * x[b*xsb + 4c] for b<${G}, r<rows (byte strides;`,
    `;; ncb = bytes of whole 4-float chunks, > 0; rows > 0). Column panels of up to ${U} chunks: the panel of each`,
    `;; of the ${G} x vectors is loaded once into v128 locals, then one pass over all rows. Per row and vector the`,
    `;; panel's dot product is one chain on the operand stack (no accumulator locals), entered by a Duff's device`,
    `;; so that partial panels use the same code. Per chunk and row:`,
    G === 1
      ? `;;   local.get pm, v128.load, local.get x, f32x4.mul, f32x4.add = 7 units per 4 MACs (1.75/MAC).`
      : `;;   vector 0: local.get pm, v128.load, local.tee m_j, local.get x, mul, add = 8; vectors 1..${G - 1}: local.get m_j,\n;;   local.get x, mul, add = 6 each: ${8 + 6 * (G - 1)} units per ${4 * G} MACs (${((8 + 6 * (G - 1)) / (4 * G)).toFixed(3)}/MAC).`,
    `;; Per row and vector ~25 more units (store address, chain start = previous partial sum in lane 0 or 0,`,
    `;; Duff dispatch, 4-lane horizontal sum 14, store) plus ~12 per row (pointer bumps, loop test).`);
  emit(`(func $mm${G} (param $out i32) (param $osb i32) (param $m i32) (param $msb i32) (param $x i32) (param $xsb i32) (param $rows i32) (param $ncb i32)`);
  genPanelLoops(F32_CHUNKS, G, U);
}

/**
 * Splits the batch over the group functions (`${prefix}8`, then 4, 2, 1 vectors per call), advancing the output and
 * x pointers ($o, $xp) and the count left ($b). Each call costs 5 units, nothing per multiply-add.
 */
function genBatchDispatch(groups, weightArgs, lengthArgs, prefix) {
  for (const G of groups) {
    const loop = G === groups[0];
    emit(loop ? `block $done${G}` : `local.get $b`, ...(loop ? [`local.get $b`, `i32.const ${G}`, `i32.lt_u`, `br_if $done${G}`, `loop $more${G}`] : [`i32.const ${G}`, `i32.and`, `if`]),
      `local.get $o`, `local.get $osb`, ...weightArgs, `local.get $xp`, `local.get $xsb`, `local.get $rows`, ...lengthArgs, `call ${prefix}${G}`,
      `local.get $o`, `local.get $osb`, `i32.const ${Math.log2(G)}`, `i32.shl`, `i32.add`, `local.set $o`,
      `local.get $xp`, `local.get $xsb`, `i32.const ${Math.log2(G)}`, `i32.shl`, `i32.add`, `local.set $xp`);
    if (loop) emit(`local.get $b`, `i32.const ${G}`, `i32.sub`, `local.tee $b`, `i32.const ${G}`, `i32.ge_u`, `br_if $more${G}`, `end`, `end`);
    else emit(`end`);
  }
}

function genMatmul() {
  emit(``,
    `;; matmul(out, outStride, m, mStride, x, xStride, rows, n, batch), byte addresses, strides/counts in floats:`,
    `;;   out[b*outStride + r] = sum_{c<n} m[r*mStride + c] * x[b*xStride + c]   for r<rows, b<batch.`,
    `;; The whole 4-float chunks go through $mm8/$mm4/$mm2/$mm1 (batch split greedily: 8s, then 4, 2, 1; a call`,
    `;; costs 5, nothing per MAC). The last n%4 columns are a scalar pass that adds to those results (or starts`,
    `;; from 0 when n < 4). Summation order: per row, per panel: chunk lanes accumulated from the last chunk to`,
    `;; the first, lanes summed 0+1+2+3; panels in order; then the scalar columns in order. Deterministic.`);
  emit(`(func (export "matmul") (param $out i32) (param $os i32) (param $m i32) (param $ms i32) (param $x i32) (param $xs i32) (param $rows i32) (param $n i32) (param $batch i32)`,
    `(local $osb i32) (local $msb i32) (local $xsb i32) (local $ncb i32) (local $o i32) (local $xp i32) (local $b i32)`,
    `(local $r i32) (local $pm i32) (local $pc i32) (local $pxe i32) (local $px i32) (local $s f32)`,
    `local.get $rows`, `i32.eqz`, `local.get $batch`, `i32.eqz`, `i32.or`, `if`, `return`, `end`,
    `local.get $os`, `i32.const 2`, `i32.shl`, `local.set $osb`,
    `local.get $ms`, `i32.const 2`, `i32.shl`, `local.set $msb`,
    `local.get $xs`, `i32.const 2`, `i32.shl`, `local.set $xsb`,
    `local.get $n`, `i32.const -4`, `i32.and`, `i32.const 2`, `i32.shl`, `local.set $ncb`,
    `local.get $ncb`, `if`,
    `local.get $out`, `local.set $o`, `local.get $x`, `local.set $xp`, `local.get $batch`, `local.set $b`);
  genBatchDispatch(MM_GROUPS, [`local.get $m`, `local.get $msb`], [`local.get $ncb`], '$mm');
  emit(`end`);
  emit(`;; scalar columns n&~3 .. n-1 (when n%4 != 0, ~15 units per MAC, at most 3 per row; n = 0 writes zeros)`,
    `local.get $n`, `i32.const 3`, `i32.and`, `local.get $ncb`, `i32.eqz`, `i32.or`, `i32.eqz`, `if`, `return`, `end`,
    `local.get $x`, `local.get $ncb`, `i32.add`, `local.set $xp`,
    `local.get $out`, `local.set $o`,
    `local.get $batch`, `local.set $b`,
    `loop $vec`,
    `local.get $m`, `local.get $ncb`, `i32.add`, `local.set $pm`,
    `local.get $xp`, `local.get $n`, `i32.const 3`, `i32.and`, `i32.const 2`, `i32.shl`, `i32.add`, `local.set $pxe`,
    `i32.const 0`, `local.set $r`,
    `loop $srow`,
    `local.get $o`, `local.get $r`, `i32.const 2`, `i32.shl`, `i32.add`, `local.tee $pc`,
    `local.get $pc`, `f32.load align=4`, `f32.const 0`, `local.get $ncb`, `select`, `local.set $s`,
    `local.get $pm`, `local.set $pc`, `local.get $xp`, `local.set $px`,
    `block $scdone`, `local.get $px`, `local.get $pxe`, `i32.eq`, `br_if $scdone`,
    `loop $scol`,
    `local.get $pc`, `f32.load align=4`, `local.get $px`, `f32.load align=4`, `f32.mul`, `local.get $s`, `f32.add`, `local.set $s`,
    `local.get $pc`, `i32.const 4`, `i32.add`, `local.set $pc`,
    `local.get $px`, `i32.const 4`, `i32.add`, `local.tee $px`, `local.get $pxe`, `i32.ne`, `br_if $scol`,
    `end`, `end`,
    `local.get $s`, `f32.store align=4`,
    `local.get $pm`, `local.get $msb`, `i32.add`, `local.set $pm`,
    `local.get $r`, `i32.const 1`, `i32.add`, `local.tee $r`, `local.get $rows`, `i32.ne`, `br_if $srow`,
    `end`,
    `local.get $o`, `local.get $osb`, `i32.add`, `local.set $o`,
    `local.get $xp`, `local.get $xsb`, `i32.add`, `local.set $xp`,
    `local.get $b`, `i32.const 1`, `i32.sub`, `local.tee $b`, `br_if $vec`,
    `end`,
    `)`);
}

// ----------------------------------------------------------------------------------------------- matmul_q8
// int8 weights x int16 activations. Chunks of 8 columns: v128.load8x8_s sign-extends 8 weight bytes to i16x8 in
// the load itself (cost 1), i32x4.dot_i16x8_s (cost 1) multiplies with 8 int16 activations held in v128 locals
// and adds pairs, i32x4.add (1) accumulates: local.get pq, load8x8_s, local.get x, dot, add = 5 units per 8 MACs.
export const Q8_PANEL = 192; // chunks of 8 columns per panel: 1536 columns (n_embd in one, n_inner in two panels)
export const Q8_GROUPS = [8, 4, 2, 1];

function genQ8Group(G) {
  const U = Q8_PANEL;
  emit(``,
    `;; $q8mm${G}: acc[b*osb + 4r] (i32) = sum_{c<n8} q[r*qsb + c] * x[b*xsb + 2c] for b<${G}, r<rows (byte strides;`,
    `;; q int8, x int16; n8 > 0 a multiple of 8; rows > 0). Writes the exact int32 sums into the output slots (the`,
    `;; caller converts them to f32 afterwards). Column panels of up to ${U} chunks of 8: each x panel is loaded once`,
    `;; into v128 locals; per row and vector one i32x4 chain on the operand stack through a Duff's device. Per chunk:`,
    G === 1
      ? `;;   local.get pq, v128.load8x8_s, local.get x, i32x4.dot_i16x8_s, i32x4.add = 5 units per 8 MACs (0.625/MAC).`
      : `;;   vector 0: local.get pq, v128.load8x8_s, local.tee m_j, local.get x, dot, add = 6; vectors 1..${G - 1}: local.get m_j,\n;;   local.get x, dot, add = 4 each: ${6 + 4 * (G - 1)} units per ${8 * G} MACs (${((6 + 4 * (G - 1)) / (8 * G)).toFixed(3)}/MAC).`,
    `;; Per row and vector ~25 more (chain start = previous panel's partial sum in lane 0 or 0, Duff dispatch,`,
    `;; horizontal i32 sum 11, store) plus ~12 per row. Integer adds wrap (mod 2^32), so the result is the exact sum`,
    `;; whenever that fits in int32, whatever the order (see matmul_q8).`);
  emit(`(func $q8mm${G} (param $out i32) (param $osb i32) (param $q i32) (param $qsb i32) (param $x i32) (param $xsb i32) (param $rows i32) (param $n8 i32)`);
  genPanelLoops(Q8_CHUNKS, G, U);
}

function genMatmulQ8() {
  emit(``,
    `;; matmul_q8(out, outStride, q, qStride, scales, x, xStride, xScales, rows, n, batch): byte addresses; outStride in`,
    `;; floats, qStride in bytes (int8 elements), xStride in int16 elements; q int8 [rows, n] rows qStride apart,`,
    `;; scales f32 [rows], x int16 [batch, n], xScales f32 [batch]:`,
    `;;   acc[b][r] = sum_{c<n} q[r*qStride + c] * x[b*xStride + c]          (int32, wrapping adds)`,
    `;;   out[b*outStride + r] = f32(acc[b][r]) * (scales[r] * xScales[b])   (f32.convert_i32_s, two f32 muls)`,
    `;; for r<rows, b<batch. The integer sum is exact (order-free) when sum_c |q*x| < 2^31; callers guarantee it by`,
    `;; bounding |x| (Kernels.q8ActivationLimit). Three passes: (1) the whole 8-column chunks through`,
    `;; $q8mm8/4/2/1 (batch split greedily), int32 sums parked in the output slots; (2) columns n&~7..n-1 scalar (~12`,
    `;; units per MAC, at most 7 per row; n = 0 gives 0); (3) per vector, the slots become f32: 4 rows at a time`,
    `;; f32x4.convert_i32x4_s * (scales * splat(xScale)) (~6 units per row), leftover rows scalar.`);
  emit(`(func (export "matmul_q8") (param $out i32) (param $os i32) (param $q i32) (param $qs i32) (param $sc i32) (param $x i32) (param $xs i32) (param $xsc i32) (param $rows i32) (param $n i32) (param $batch i32)`,
    `(local $osb i32) (local $xsb i32) (local $n8 i32) (local $o i32) (local $xp i32) (local $b i32)`,
    `(local $r i32) (local $pm i32) (local $pc i32) (local $pxe i32) (local $px i32) (local $s i32) (local $ps i32) (local $pe4 i32) (local $pe i32) (local $xv v128) (local $xf f32)`,
    `local.get $rows`, `i32.eqz`, `local.get $batch`, `i32.eqz`, `i32.or`, `if`, `return`, `end`,
    `local.get $os`, `i32.const 2`, `i32.shl`, `local.set $osb`,
    `local.get $xs`, `i32.const 1`, `i32.shl`, `local.set $xsb`,
    `local.get $n`, `i32.const -8`, `i32.and`, `local.set $n8`,
    `local.get $n8`, `if`,
    `local.get $out`, `local.set $o`, `local.get $x`, `local.set $xp`, `local.get $batch`, `local.set $b`);
  genBatchDispatch(Q8_GROUPS, [`local.get $q`, `local.get $qs`], [`local.get $n8`], '$q8mm');
  emit(`end`);
  emit(`;; (2) scalar columns n8 .. n-1 (when n%8 != 0, or n = 0: zeros)`,
    `block $tdone`,
    `local.get $n`, `i32.const 7`, `i32.and`, `local.get $n8`, `i32.eqz`, `i32.or`, `i32.eqz`, `br_if $tdone`,
    `local.get $x`, `local.get $n8`, `i32.const 1`, `i32.shl`, `i32.add`, `local.set $xp`,
    `local.get $out`, `local.set $o`,
    `local.get $batch`, `local.set $b`,
    `loop $vec`,
    `local.get $q`, `local.get $n8`, `i32.add`, `local.set $pm`,
    `local.get $xp`, `local.get $n`, `i32.const 7`, `i32.and`, `i32.const 1`, `i32.shl`, `i32.add`, `local.set $pxe`,
    `i32.const 0`, `local.set $r`,
    `loop $srow`,
    `local.get $o`, `local.get $r`, `i32.const 2`, `i32.shl`, `i32.add`, `local.tee $pc`,
    `local.get $pc`, `i32.load align=1`, `i32.const 0`, `local.get $n8`, `select`, `local.set $s`,
    `local.get $pm`, `local.set $pc`, `local.get $xp`, `local.set $px`,
    `block $scdone`, `local.get $px`, `local.get $pxe`, `i32.eq`, `br_if $scdone`,
    `loop $scol`,
    `local.get $pc`, `i32.load8_s`, `local.get $px`, `i32.load16_s align=1`, `i32.mul`, `local.get $s`, `i32.add`, `local.set $s`,
    `local.get $pc`, `i32.const 1`, `i32.add`, `local.set $pc`,
    `local.get $px`, `i32.const 2`, `i32.add`, `local.tee $px`, `local.get $pxe`, `i32.ne`, `br_if $scol`,
    `end`, `end`,
    `local.get $s`, `i32.store align=1`,
    `local.get $pm`, `local.get $qs`, `i32.add`, `local.set $pm`,
    `local.get $r`, `i32.const 1`, `i32.add`, `local.tee $r`, `local.get $rows`, `i32.ne`, `br_if $srow`,
    `end`,
    `local.get $o`, `local.get $osb`, `i32.add`, `local.set $o`,
    `local.get $xp`, `local.get $xsb`, `i32.add`, `local.set $xp`,
    `local.get $b`, `i32.const 1`, `i32.sub`, `local.tee $b`, `br_if $vec`,
    `end`,
    `end`,
    `;; (3) int32 slots -> f32(acc) * (scales[r] * xScales[b])`,
    `local.get $out`, `local.set $o`,
    `local.get $xsc`, `local.set $px`,
    `local.get $batch`, `local.set $b`,
    `loop $cvec`,
    `local.get $px`, `f32.load align=1`, `local.tee $xf`, `f32x4.splat`, `local.set $xv`,
    `local.get $o`, `local.set $pc`, `local.get $sc`, `local.set $ps`,
    `local.get $o`, `local.get $rows`, `i32.const -4`, `i32.and`, `i32.const 2`, `i32.shl`, `i32.add`, `local.set $pe4`,
    `local.get $o`, `local.get $rows`, `i32.const 2`, `i32.shl`, `i32.add`, `local.set $pe`,
    `block $c4done`, `local.get $pc`, `local.get $pe4`, `i32.eq`, `br_if $c4done`, `loop $c4`,
    `local.get $pc`, `local.get $pc`, `v128.load align=1`, `f32x4.convert_i32x4_s`,
    `local.get $ps`, `v128.load align=1`, `local.get $xv`, `f32x4.mul`, `f32x4.mul`, `v128.store align=1`,
    `local.get $ps`, `i32.const 16`, `i32.add`, `local.set $ps`,
    `local.get $pc`, `i32.const 16`, `i32.add`, `local.tee $pc`, `local.get $pe4`, `i32.ne`, `br_if $c4`,
    `end`, `end`,
    `block $c1done`, `local.get $pc`, `local.get $pe`, `i32.eq`, `br_if $c1done`, `loop $c1`,
    `local.get $pc`, `local.get $pc`, `i32.load align=1`, `f32.convert_i32_s`,
    `local.get $ps`, `f32.load align=1`, `local.get $xf`, `f32.mul`, `f32.mul`, `f32.store align=1`,
    `local.get $ps`, `i32.const 4`, `i32.add`, `local.set $ps`,
    `local.get $pc`, `i32.const 4`, `i32.add`, `local.tee $pc`, `local.get $pe`, `i32.ne`, `br_if $c1`,
    `end`, `end`,
    `local.get $o`, `local.get $osb`, `i32.add`, `local.set $o`,
    `local.get $px`, `i32.const 4`, `i32.add`, `local.set $px`,
    `local.get $b`, `i32.const 1`, `i32.sub`, `local.tee $b`, `br_if $cvec`,
    `end`,
    `)`);
}

// ------------------------------------------------------------------------------------------ weighted_row_sum
function genWrs() {
  const U = WRS_PANEL, R = WRS_ROWS;
  const rowsStep = (nr) => (j) => {
    const s = [`local.get $a${j}`];
    for (let i = 0; i < nr; i++) s.push(`local.get $q${i}`, `v128.load offset=${16 * j} align=4`, `local.get $s${i}`, `f32x4.mul`, `f32x4.add`);
    s.push(`local.set $a${j}`);
    return s;
  };
  emit(``,
    `;; weighted_row_sum(out, p, m, mStride, rows, n): out[c] = sum_{r<rows} p[r] * m[r*mStride + c], c<n (overwrites).`,
    `;; Column panels of up to ${U} chunks (${4 * U} floats = one attention head) with the sums in v128 locals $a*; a pass`,
    `;; takes ${R} rows: p[r] splatted once per row (4 units), row pointers q1..q${R - 1} = q0 + i*mStride (4 units each),`,
    `;; then per chunk one operand-stack chain over the ${R} rows: local.get a, ${R} x (local.get q, v128.load,`,
    `;; local.get s, mul, add = 7), local.set a = ${2 + 7 * R} units per ${4 * R} MACs (${((2 + 7 * R) / (4 * R)).toFixed(3)}/MAC); the chunks`,
    `;; of a partial panel are selected by a Duff's device (3 per pass). Leftover rows (rows % ${R}) run the same`,
    `;; step with one row (9 per chunk), leftover columns (n % 4) a scalar loop (~17 units per MAC).`,
    `;; Summation order: rows in increasing order, per column. Deterministic.`);
  emit(`(func (export "weighted_row_sum") (param $out i32) (param $p i32) (param $m i32) (param $ms i32) (param $rows i32) (param $n i32)`,
    `(local $msb i32) (local $ncb i32) (local $c0 i32) (local $k i32) (local $pp i32) (local $ppEnd i32) (local $ppEnd${R} i32) (local $s f32) (local $pc i32)`,
    Array.from({ length: R }, (_, i) => `(local $q${i} i32) (local $s${i} v128)`).join(' '),
    Array.from({ length: U }, (_, j) => `(local $a${j} v128)`).join(' '),
    `local.get $ms`, `i32.const 2`, `i32.shl`, `local.set $msb`,
    `local.get $n`, `i32.const -4`, `i32.and`, `i32.const 2`, `i32.shl`, `local.set $ncb`,
    `local.get $p`, `local.get $rows`, `i32.const 2`, `i32.shl`, `i32.add`, `local.set $ppEnd`,
    `local.get $p`, `local.get $rows`, `i32.const ${-R}`, `i32.and`, `i32.const 2`, `i32.shl`, `i32.add`, `local.set $ppEnd${R}`,
    `block $nochunks`, `local.get $ncb`, `i32.eqz`, `br_if $nochunks`,
    `loop $panel`,
    `local.get $ncb`, `local.get $c0`, `i32.sub`, `i32.const 4`, `i32.shr_u`, `local.set $k`,
    `i32.const ${U}`, `local.get $k`, `local.get $k`, `i32.const ${U}`, `i32.gt_u`, `select`, `local.set $k`);
  for (let j = 0; j < U; j++) emit(`v128.const i32x4 0 0 0 0`, `local.set $a${j}`);
  emit(`local.get $m`, `local.get $c0`, `i32.add`, `local.set $q0`, `local.get $p`, `local.set $pp`,
    `block $rows${R}done`, `local.get $pp`, `local.get $ppEnd${R}`, `i32.eq`, `br_if $rows${R}done`, `loop $rows${R}`);
  for (let i = 0; i < R; i++) emit(`local.get $pp`, `f32.load offset=${4 * i} align=4`, `f32x4.splat`, `local.set $s${i}`);
  for (let i = 1; i < R; i++) emit(`local.get $q${i - 1}`, `local.get $msb`, `i32.add`, `local.set $q${i}`);
  duff(U, '$k', rowsStep(R));
  emit(`local.get $q${R - 1}`, `local.get $msb`, `i32.add`, `local.set $q0`,
    `local.get $pp`, `i32.const ${4 * R}`, `i32.add`, `local.tee $pp`, `local.get $ppEnd${R}`, `i32.ne`, `br_if $rows${R}`,
    `end`, `end`,
    `block $rows1done`, `local.get $pp`, `local.get $ppEnd`, `i32.eq`, `br_if $rows1done`, `loop $rows1`,
    `local.get $pp`, `f32.load align=4`, `f32x4.splat`, `local.set $s0`);
  duff(U, '$k', rowsStep(1));
  emit(`local.get $q0`, `local.get $msb`, `i32.add`, `local.set $q0`,
    `local.get $pp`, `i32.const 4`, `i32.add`, `local.tee $pp`, `local.get $ppEnd`, `i32.ne`, `br_if $rows1`,
    `end`, `end`,
    `local.get $out`, `local.get $c0`, `i32.add`, `local.set $q0`);
  duff(U, '$k', (j) => [`local.get $q0`, `local.get $a${j}`, `v128.store offset=${16 * j} align=4`]);
  emit(`local.get $c0`, `local.get $k`, `i32.const 4`, `i32.shl`, `i32.add`, `local.tee $c0`, `local.get $ncb`, `i32.lt_u`, `br_if $panel`,
    `end`, `end`,
    `;; scalar columns n&~3 .. n-1`,
    `local.get $ncb`, `local.set $c0`,
    `block $sdone`, `loop $scol`,
    `local.get $c0`, `local.get $n`, `i32.const 2`, `i32.shl`, `i32.ge_u`, `br_if $sdone`,
    `f32.const 0`, `local.set $s`,
    `local.get $m`, `local.get $c0`, `i32.add`, `local.set $pc`,
    `local.get $p`, `local.set $pp`,
    `block $srdone`, `local.get $rows`, `i32.eqz`, `br_if $srdone`, `loop $srow`,
    `local.get $pp`, `f32.load align=4`, `local.get $pc`, `f32.load align=4`, `f32.mul`, `local.get $s`, `f32.add`, `local.set $s`,
    `local.get $pc`, `local.get $msb`, `i32.add`, `local.set $pc`,
    `local.get $pp`, `i32.const 4`, `i32.add`, `local.tee $pp`, `local.get $ppEnd`, `i32.ne`, `br_if $srow`,
    `end`, `end`,
    `local.get $out`, `local.get $c0`, `i32.add`, `local.get $s`, `f32.store align=4`,
    `local.get $c0`, `i32.const 4`, `i32.add`, `local.set $c0`, `br $scol`,
    `end`, `end`,
    `)`);
}

// ------------------------------------------------------------------------------------------------- transpose
function genTranspose() {
  // One column of a 4-row block: dst[c*rows + r..r+3] is contiguous, so gather the 4 source floats with
  // load32_zero + 3 load32_lane straight into a vector and store it once: 5 local.get + 4 loads + 1 store.
  const gather = (off) => [`local.get $p3`, `local.get $p2`, `local.get $p1`, `local.get $p0`,
    `v128.load32_zero offset=${off} align=4`, `v128.load32_lane offset=${off} align=4 1`, `v128.load32_lane offset=${off} align=4 2`,
    `v128.load32_lane offset=${off} align=4 3`, `v128.store align=4`];
  emit(``,
    `;; transpose(dst, src, rows, cols): dst[c*rows + r] = src[r*cols + c]. Blocks of 4 source rows: each column of`,
    `;; the block becomes one v128 store (gather = 10 units per 4 elements, +4 to step the destination column);`,
    `;; columns unrolled by 4 with offset= immediates so the 4 row pointers move once per 16 elements`,
    `;; (≈78 units per 16 elements ≈ 4.9/element). Leftover columns one at a time, leftover rows (rows % 4)`,
    `;; scalar (~14 units per element).`);
  emit(`(func (export "transpose") (param $dst i32) (param $src i32) (param $rows i32) (param $cols i32)`,
    `(local $rb i32) (local $cb i32) (local $r i32) (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $q i32) (local $pe4 i32) (local $pe i32)`,
    `local.get $rows`, `i32.eqz`, `local.get $cols`, `i32.eqz`, `i32.or`, `if`, `return`, `end`,
    `local.get $rows`, `i32.const 2`, `i32.shl`, `local.set $rb`,
    `local.get $cols`, `i32.const 2`, `i32.shl`, `local.set $cb`,
    `local.get $src`, `local.set $p0`,
    `block $blocksdone`, `loop $block`,
    `local.get $r`, `i32.const 4`, `i32.add`, `local.get $rows`, `i32.gt_u`, `br_if $blocksdone`,
    `local.get $p0`, `local.get $cb`, `i32.add`, `local.tee $p1`, `local.get $cb`, `i32.add`, `local.tee $p2`, `local.get $cb`, `i32.add`, `local.set $p3`,
    `local.get $dst`, `local.get $r`, `i32.const 2`, `i32.shl`, `i32.add`, `local.set $q`,
    `local.get $p0`, `local.get $cols`, `i32.const -4`, `i32.and`, `i32.const 2`, `i32.shl`, `i32.add`, `local.set $pe4`,
    `local.get $p0`, `local.get $cb`, `i32.add`, `local.set $pe`,
    `block $c4done`, `local.get $p0`, `local.get $pe4`, `i32.eq`, `br_if $c4done`, `loop $c4`);
  for (let u = 0; u < 4; u++) {
    if (u === 0) emit(`local.get $q`);
    else emit(`local.get $q`, `local.get $rb`, `i32.add`, `local.tee $q`);
    emit(...gather(4 * u));
  }
  emit(`local.get $q`, `local.get $rb`, `i32.add`, `local.set $q`);
  for (let i = 3; i >= 0; i--) emit(`local.get $p${i}`, `i32.const 16`, `i32.add`, `local.set $p${i}`);
  emit(`local.get $p0`, `local.get $pe4`, `i32.ne`, `br_if $c4`, `end`, `end`,
    `block $c1done`, `local.get $p0`, `local.get $pe`, `i32.eq`, `br_if $c1done`, `loop $c1`,
    `local.get $q`, ...gather(0),
    `local.get $q`, `local.get $rb`, `i32.add`, `local.set $q`);
  for (let i = 3; i >= 0; i--) emit(`local.get $p${i}`, `i32.const 4`, `i32.add`, `local.set $p${i}`);
  emit(`local.get $p0`, `local.get $pe`, `i32.ne`, `br_if $c1`, `end`, `end`,
    `;; next block: p0 already points at row r+1; skip rows r+1..r+3`,
    `local.get $p3`, `local.set $p0`,
    `local.get $r`, `i32.const 4`, `i32.add`, `local.set $r`, `br $block`,
    `end`, `end`,
    `;; leftover rows r..rows-1, scalar: p0 = &src[r*cols], q walks dst[c*rows + r]`,
    `block $rdone`, `loop $rrow`,
    `local.get $r`, `local.get $rows`, `i32.eq`, `br_if $rdone`,
    `local.get $dst`, `local.get $r`, `i32.const 2`, `i32.shl`, `i32.add`, `local.set $q`,
    `local.get $p0`, `local.get $cb`, `i32.add`, `local.set $pe`,
    `loop $rcol`,
    `local.get $q`, `local.get $p0`, `f32.load align=4`, `f32.store align=4`,
    `local.get $q`, `local.get $rb`, `i32.add`, `local.set $q`,
    `local.get $p0`, `i32.const 4`, `i32.add`, `local.tee $p0`, `local.get $pe`, `i32.ne`, `br_if $rcol`,
    `end`,
    `local.get $r`, `i32.const 1`, `i32.add`, `local.set $r`, `br $rrow`,
    `end`, `end`,
    `)`);
}

export function generate() {
  L.length = 0;
  emit(`;; GENERATED by scripts/gen-kernels.mjs — edit the generator, not this file.`,
    `;; SIMD128 kernels for the GPT-2 canister, merged into the TeaVM output with`,
    `;;   wasm-merge <teavm.wasm> main kernels.wasm kernels`,
    `;; so Java @Import(module="kernels", name=...) natives resolve to these exports. All array arguments are i32`,
    `;; byte addresses into the shared memory; strides and counts are in floats. No alignment is assumed (align=4`,
    `;; hints only); no relaxed SIMD. Shaped for the IC's per-instruction metering (docs/ic-platform.md), not wall`,
    `;; time: fewest metered instructions per multiply-add (MAC), with f32x4.mul + f32x4.add (4 units per 4 MACs)`,
    `;; as the irreducible part and one local.get/load per operand on top (floor 1.5/MAC, 1.75 when m is not`,
    `;; shared across vectors). Callers guarantee ranges; the kernels never read or write outside them.`,
    `(module`,
    `(import "main" "memory" (memory 1))`);
  for (const G of MM_GROUPS) genMatmulGroup(G);
  genMatmul();
  for (const G of Q8_GROUPS) genQ8Group(G);
  genMatmulQ8();
  genWrs();
  genTranspose();
  emit(`)`);
  // indent by nesting
  let depth = 0; const out = [];
  for (const l of L) {
    const t = l.trim();
    if (t === 'end' || t === ')' ) depth = Math.max(0, depth - 1);
    out.push('  '.repeat(Math.min(depth, 6)) + t); // Duff's devices nest ~200 blocks: cap the indent
    if (/^(block|loop|if)\b/.test(t) || t.startsWith('(func') || t === '(module') depth++;
  }
  return out.join('\n').replace(/[ ]+$/gm, '') + '\n';
}

const MODEL_CANISTER = join(dirname(fileURLToPath(import.meta.url)), '..', 'model-canister');
export const PIN_PATH = join(MODEL_CANISTER, 'src', 'main', 'wat', 'kernels.wat.sha256');

export function sha256(text) {
  return createHash('sha256').update(text).digest('hex');
}

/** The pinned hash: the first word of a `sha256sum` line. */
export function pinnedSha256(pinFile = PIN_PATH) {
  return readFileSync(pinFile, 'utf8').trim().split(/\s+/)[0];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      output: { type: 'string', default: join(MODEL_CANISTER, 'target', 'kernels.wat') },
      'pinned-sha256': { type: 'string', default: PIN_PATH },
    },
  });
  const wat = generate();
  const actual = sha256(wat);
  const pinned = pinnedSha256(values['pinned-sha256']);
  if (actual !== pinned) {
    rmSync(values.output, { force: true });
    console.error(`[kernels] the generated kernels.wat has SHA-256 ${actual}, but ${values['pinned-sha256']} pins ${pinned}.\n`
      + `[kernels] If the kernels were meant to change, check them (node --test model-canister/src/test/node/kernels.test.mjs)\n`
      + `[kernels] and write "${actual}  kernels.wat" into the pin.`);
    process.exit(1);
  }
  mkdirSync(dirname(values.output), { recursive: true });
  writeFileSync(values.output, wat);
  console.log(`[kernels] wrote ${values.output} (SHA-256 ${actual}, as pinned)`);
}
