// Measures the costs this host adds to canister execution:
//  1. heap commit/rollback for a canister with a 1 GiB Wasm heap (as TeaVM preallocates),
//  2. the slowdown of instruction metering on a compute loop (instrumented vs plain V8).
// Run: node bench/measure.mjs

import { wat2wasm } from '../testing/helpers.mjs';
import { Replica } from '../src/replica.mjs';
import { ReplicaKeys } from '../src/certification.mjs';
import { compileCode } from '../src/canister.mjs';
import { instrument } from '../src/instrument.mjs';

const REPLY = `
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (func $reply_empty
    (i32.store (i32.const 1024) (i32.const 0x4c444944))
    (i32.store16 (i32.const 1028) (i32.const 0))
    (call $append (i32.const 1024) (i32.const 6))
    (call $reply))`;

// A matrix-vector style f32x4 kernel: n iterations of load, mul, add, store.
const KERNEL = `
  (func $kernel (param $n i32) (local $i i32) (local $acc v128)
    (loop $l
      (local.set $acc (f32x4.add (local.get $acc)
        (f32x4.mul (v128.load (i32.and (i32.shl (local.get $i) (i32.const 4)) (i32.const 0xffff)))
                   (v128.load offset=16 (i32.and (i32.shl (local.get $i) (i32.const 4)) (i32.const 0xffff))))))
      (v128.store (i32.const 65536) (local.get $acc))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))`;

// The heap is filled with non-zero bytes in canister_init, like a loaded model.
const HEAP_WAT = `(module ${REPLY}
  (memory 16384)
  (func (export "canister_init") (memory.fill (i32.const 0) (i32.const 1) (i32.const 0x40000000)))
  (func (export "canister_update touch") (i32.store (i32.const 4096) (i32.const 1)) (call $reply_empty))
  (func (export "canister_query read") (call $reply_empty)))`;

const KERNEL_WAT = `(module ${REPLY} (memory 2) ${KERNEL}
  (func (export "canister_update run") (call $kernel (i32.const 200000000)) (call $reply_empty))
  (export "kernel" (func $kernel)))`;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const replica = new Replica({ log: () => {} }, { keys: new ReplicaKeys() });
const caller = new Uint8Array([4]);
const canister = replica.createCanister({ controllers: [caller] });

let t = performance.now();
replica.installCode(canister, { mode: 'install', code: compileCode(wat2wasm(HEAP_WAT), canister.idText), arg: new Uint8Array(0), caller });
console.log(`install with a 1 GiB heap filled in canister_init (instantiate, fill, first snapshot): ${(performance.now() - t).toFixed(0)} ms`);
for (const [method, kind] of [['touch', 'update'], ['read', 'query']]) {
  const times = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    const params = { canisterId: canister.id, method, arg: new Uint8Array(0), caller };
    const record = kind === 'update' ? replica.executeUpdate(params) : replica.executeQuery(params);
    if (record.status !== 'replied') throw new Error(record.rejectMessage);
    times.push(performance.now() - t);
  }
  console.log(`${kind} on a full 1 GiB heap (heap commit or rollback included): median ${median(times).toFixed(0)} ms`);
}

const kernel = replica.createCanister({ controllers: [caller] });
replica.installCode(kernel, { mode: 'install', code: compileCode(wat2wasm(KERNEL_WAT), kernel.idText), arg: new Uint8Array(0), caller });
replica.executeUpdate({ canisterId: kernel.id, method: 'run', arg: new Uint8Array(0), caller });
const metered = replica.messages.at(-1);

const plain = new WebAssembly.Instance(new WebAssembly.Module(wat2wasm(KERNEL_WAT)), { ic0: { msg_reply_data_append() {}, msg_reply() {} } });
plain.exports.kernel(1000);
t = performance.now();
plain.exports.kernel(200_000_000);
const plainMs = performance.now() - t;
console.log(`f32x4 kernel, 200 M iterations: ${(metered.instructions / 1e9).toFixed(2)} B instructions; `
  + `metered ${metered.ms.toFixed(0)} ms vs plain V8 ${plainMs.toFixed(0)} ms (x${(metered.ms / plainMs).toFixed(2)}); `
  + `${(metered.instructions / metered.ms / 1e6).toFixed(2)} B instructions/s`);
const bytes = wat2wasm(KERNEL_WAT);
t = performance.now();
for (let i = 0; i < 100; i++) instrument(bytes);
console.log(`instrumenting a ${bytes.length}-byte module: ${((performance.now() - t) / 100).toFixed(2)} ms`);
