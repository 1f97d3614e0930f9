// Feeds the IC module gate modules it must refuse, one defect each, and one it must accept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import binaryen from 'binaryen';
import { checkModule, withCustomSection } from '../wasm-gate.mjs';

const F = binaryen.Features;
// Every feature a test module uses, so the gate (not the assembler) decides. (Features.All would also turn on
// binaryen's experimental encodings, which no engine reads.)
const ASSEMBLER_FEATURES = F.MutableGlobals | F.NontrappingFPToInt | F.SignExt | F.SIMD128 | F.BulkMemory
  | F.ReferenceTypes | F.Multivalue | F.TailCall | F.RelaxedSIMD | F.ExceptionHandling | F.Atomics
  | F.Memory64 | F.MultiMemory;

function wasm(body) {
  const module = binaryen.parseText(`(module ${body})`);
  module.setFeatures(ASSEMBLER_FEATURES);
  const bytes = Buffer.from(module.emitBinary());
  module.dispose();
  return bytes;
}

const VALID = `
  (import "ic0" "msg_reply" (func $reply))
  (memory (export "memory") 1 100)
  (func (export "canister_update ping") (call $reply))
  (func (export "canister_init"))`;

function refused(bytes, pattern) {
  const problems = checkModule(bytes);
  assert.ok(problems.some((p) => pattern.test(p)), `expected a problem matching ${pattern}, got ${JSON.stringify(problems)}`);
}

test('accepts a minimal canister with a Candid section', () => {
  assert.deepEqual(checkModule(withCustomSection(wasm(VALID), 'icp:public candid:service', Buffer.from('service : {}'))), []);
});

test('refuses imports outside ic0 and wrong ic0 signatures', () => {
  refused(wasm(`(import "env" "foo" (func)) ${VALID}`), /imports env\.foo/);
  refused(wasm(`(import "ic0" "msg_arg_data_size" (func (result i64))) ${VALID}`), /msg_arg_data_size as \(->i64\)/);
  refused(wasm(`(import "ic0" "no_such_call" (func)) ${VALID}`), /not in the IC System API/);
  refused(wasm(`(import "ic0" "g" (global i32)) ${VALID}`), /imports global/);
});

test('refuses features the IC does not enable', () => {
  refused(wasm(`${VALID} (func $f (result i32) (return_call $g)) (func $g (result i32) (i32.const 1))`), /Wasm features/);
  refused(wasm(`${VALID} (func (param v128 v128 v128) (result v128)
    (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))`), /Wasm features/);
  refused(wasm(`${VALID} (tag $e) (func (throw $e))`), /exception tags|Wasm features/);
  refused(wasm(`${VALID} (memory $second 1 2)`), /multi-memory|memories/);
  refused(wasm(`(import "ic0" "msg_reply" (func $reply)) (memory 1 2 shared)
    (func (export "canister_init") (drop (i32.atomic.load (i32.const 0))))`), /shared memory|Wasm features/);
  refused(wasm(`(memory i64 1 2) (func (export "canister_init"))`), /64-bit memory|Wasm features/);
});

test('refuses bad entry points', () => {
  refused(wasm(`${VALID} (func (export "canister_foo"))`), /not an IC entry point/);
  refused(wasm(`${VALID} (func (export "canister_query ping"))`), /exported more than once/);
  refused(wasm(`${VALID} (func (export "canister_query bad") (param i32))`), /must be \(\) -> \(\)/);
  refused(wasm(`${VALID} (func (export "canister_start"))`), /reserved name/);
});

test('refuses modules over the IC limits', () => {
  const globals = Array.from({ length: 1001 }, (_, i) => `(global $g${i} i32 (i32.const 0))`).join(' ');
  refused(wasm(`${VALID} ${globals}`), /1001 globals/);
  const methods = Array.from({ length: 1001 }, (_, i) => `(func (export "canister_query m${i}"))`).join(' ');
  refused(wasm(`${VALID} ${methods}`), /1002 canister methods/);
  refused(wasm(`(memory 1) (func (export "canister_init"))`), /no declared maximum/);
});

test('refuses custom sections other than icp:public/private and oversized ones', () => {
  refused(withCustomSection(wasm(VALID), 'name', Buffer.alloc(3)), /custom section "name"/);
  refused(withCustomSection(wasm(VALID), 'icp:public big', Buffer.alloc(1024 * 1024 + 1)), /total .* bytes/);
});
