// Hand-written test canisters (WebAssembly text) and their Candid interfaces.

import { IDL } from '@icp-sdk/core/candid';

// Shared imports and reply helpers. Candid replies are written at address 1024:
//   "DIDL" 00 01 <type> <value>
const COMMON = `
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_caller_size" (func $caller_size (result i32)))
  (import "ic0" "msg_caller_copy" (func $caller_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reject" (func $reject (param i32 i32)))
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (import "ic0" "stable64_size" (func $s_size (result i64)))
  (import "ic0" "stable64_grow" (func $s_grow (param i64) (result i64)))
  (import "ic0" "stable64_write" (func $s_write (param i64 i64 i64)))
  (import "ic0" "stable64_read" (func $s_read (param i64 i64 i64)))
  (import "ic0" "performance_counter" (func $perf (param i32) (result i64)))
  (import "ic0" "is_controller" (func $is_controller (param i32 i32) (result i32)))
  (import "ic0" "msg_method_name_size" (func $method_size (result i32)))
  (import "ic0" "msg_method_name_copy" (func $method_copy (param i32 i32 i32)))
  (import "ic0" "accept_message" (func $accept))
  (import "ic0" "debug_print" (func $print (param i32 i32)))
  (memory 2)
  (data (i32.const 2000) "boom")
  (data (i32.const 2010) "nope")
  (data (i32.const 2020) "blocked")

  (func $reply_header (param $type i32)
    (i32.store (i32.const 1024) (i32.const 0x4c444944))
    (i32.store8 (i32.const 1028) (i32.const 0))
    (i32.store8 (i32.const 1029) (i32.const 1))
    (i32.store8 (i32.const 1030) (local.get $type)))
  (func $reply_nat32 (param $v i32)
    (call $reply_header (i32.const 0x79))
    (i32.store (i32.const 1031) (local.get $v))
    (call $append (i32.const 1024) (i32.const 11))
    (call $reply))
  (func $reply_nat64 (param $v i64)
    (call $reply_header (i32.const 0x78))
    (i64.store (i32.const 1031) (local.get $v))
    (call $append (i32.const 1024) (i32.const 15))
    (call $reply))
  (func $reply_bool (param $v i32)
    (call $reply_header (i32.const 0x7e))
    (i32.store8 (i32.const 1031) (local.get $v))
    (call $append (i32.const 1024) (i32.const 8))
    (call $reply))
  (func $reply_empty
    (i32.store (i32.const 1024) (i32.const 0x4c444944))
    (i32.store16 (i32.const 1028) (i32.const 0))
    (call $append (i32.const 1024) (i32.const 6))
    (call $reply))
`;

/**
 * The main test canister. Heap word 0 is a counter; stable memory word 0 is a
 * second counter; heap word 8 holds the size of the init or post_upgrade
 * argument; heap word 12 is set by post_upgrade.
 */
export const COUNTER_WAT = `(module ${COMMON}
  (func $heap_inc (result i32)
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (i32.load (i32.const 0)))
  (func $stable_inc (result i32)
    (if (i64.eqz (call $s_size)) (then (drop (call $s_grow (i64.const 1)))))
    (call $s_read (i64.const 16) (i64.const 0) (i64.const 4))
    (i32.store (i32.const 16) (i32.add (i32.load (i32.const 16)) (i32.const 1)))
    (call $s_write (i64.const 0) (i64.const 16) (i64.const 4))
    (i32.load (i32.const 16)))

  (func (export "canister_init") (i32.store (i32.const 8) (call $arg_size)))
  (func (export "canister_post_upgrade")
    (i32.store (i32.const 8) (call $arg_size))
    (i32.store (i32.const 12) (i32.const 1)))
  (func (export "canister_query upgraded") (call $reply_nat32 (i32.load (i32.const 12))))
  (func (export "canister_update inc") (call $reply_nat32 (call $heap_inc)))
  (func (export "canister_query get") (call $reply_nat32 (i32.load (i32.const 0))))
  (func (export "canister_query inc_in_query") (call $reply_nat32 (call $heap_inc)))
  (func (export "canister_query init_arg_size") (call $reply_nat32 (i32.load (i32.const 8))))
  (func (export "canister_update stable_inc") (call $reply_nat32 (call $stable_inc)))
  (func (export "canister_query stable_get")
    (if (i64.eqz (call $s_size)) (then (call $reply_nat32 (i32.const 0)) (return)))
    (call $s_read (i64.const 16) (i64.const 0) (i64.const 4))
    (call $reply_nat32 (i32.load (i32.const 16))))
  (func (export "canister_query stable_size") (call $reply_nat64 (call $s_size)))
  (func (export "canister_update inc_both_then_trap")
    (drop (call $heap_inc))
    (drop (call $stable_inc))
    (drop (call $s_grow (i64.const 3)))
    (drop (memory.grow (i32.const 1)))
    (call $trap (i32.const 2000) (i32.const 4)))
  (func (export "canister_update inc_then_unreachable") (drop (call $heap_inc)) unreachable)
  (func (export "canister_update no_reply") (drop (call $heap_inc)))
  (func (export "canister_update reject") (call $reject (i32.const 2010) (i32.const 4)))
  (func (export "canister_update reply_twice") (call $reply_empty) (call $reply_empty))
  (func (export "canister_update echo")
    (local $n i32)
    (local.set $n (call $arg_size))
    (if (i32.gt_u (local.get $n) (i32.const 60000)) (then unreachable))
    (call $arg_copy (i32.const 4096) (i32.const 0) (local.get $n))
    (call $append (i32.const 4096) (local.get $n))
    (call $reply))
  (func (export "canister_update whoami")
    (local $n i32)
    (local.set $n (call $caller_size))
    (call $reply_header (i32.const 0x68))
    (i32.store8 (i32.const 1031) (i32.const 1))
    (i32.store8 (i32.const 1032) (local.get $n))
    (call $caller_copy (i32.const 1033) (i32.const 0) (local.get $n))
    (call $append (i32.const 1024) (i32.add (i32.const 9) (local.get $n)))
    (call $reply))
  (func (export "canister_query caller_is_controller")
    (local $n i32)
    (local.set $n (call $caller_size))
    (call $caller_copy (i32.const 3000) (i32.const 0) (local.get $n))
    (call $reply_bool (call $is_controller (i32.const 3000) (local.get $n))))
  (func (export "canister_update blocked") (call $reply_empty))
  (func (export "canister_update spin") (loop $l (br $l)))
  (func (export "canister_query spin_query") (loop $l (br $l)))
  (func (export "canister_query heap_pages") (call $reply_nat32 (memory.size)))
  (func (export "canister_inspect_message")
    (local $n i32)
    (local.set $n (call $method_size))
    (call $method_copy (i32.const 3100) (i32.const 0) (local.get $n))
    ;; reject "blocked" (7 bytes): compare the first 4 bytes and the length
    (if (i32.and (i32.eq (local.get $n) (i32.const 7))
                 (i32.eq (i32.load (i32.const 3100)) (i32.load (i32.const 2020))))
      (then (return)))
    (call $accept))
)`;

export const counterIdl = ({ IDL: idl = IDL } = {}) => idl.Service({
  inc: idl.Func([], [idl.Nat32], []),
  get: idl.Func([], [idl.Nat32], ['query']),
  inc_in_query: idl.Func([], [idl.Nat32], ['query']),
  init_arg_size: idl.Func([], [idl.Nat32], ['query']),
  upgraded: idl.Func([], [idl.Nat32], ['query']),
  stable_inc: idl.Func([], [idl.Nat32], []),
  stable_get: idl.Func([], [idl.Nat32], ['query']),
  stable_size: idl.Func([], [idl.Nat64], ['query']),
  inc_both_then_trap: idl.Func([], [], []),
  inc_then_unreachable: idl.Func([], [], []),
  no_reply: idl.Func([], [], []),
  reject: idl.Func([], [], []),
  reply_twice: idl.Func([], [], []),
  echo: idl.Func([idl.Vec(idl.Nat8)], [idl.Vec(idl.Nat8)], []),
  whoami: idl.Func([], [idl.Principal], []),
  caller_is_controller: idl.Func([], [idl.Bool], ['query']),
  blocked: idl.Func([], [], []),
  spin: idl.Func([], [], []),
  spin_query: idl.Func([], [], ['query']),
  heap_pages: idl.Func([], [idl.Nat32], ['query']),
});

/**
 * Metering fixtures. Each comment gives the IC cost of the code by the table in
 * instruction-costs.mjs; the tests repeat the sums next to their assertions.
 */
export const METERING_WAT = `(module ${COMMON}
  (func $callee (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "canister_update straight")
    (drop (i32.add (i32.const 1) (i32.const 2)))
    (drop (i64.mul (i64.const 3) (i64.const 4))))
  (func (export "canister_update loop10") (local $i i32)
    (local.set $i (i32.const 10))
    (loop $l
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $l (local.get $i))))
  (func (export "canister_update blocks") (local $x i32)
    (local.set $x (i32.const 5))
    (block $outer
      (block $inner
        (br_if $inner (i32.eqz (local.get $x)))
        (local.set $x (i32.const 7))
        (br $outer))
      (local.set $x (i32.const 9)))
    (drop (local.get $x)))
  (func (export "canister_update call") (drop (call $callee (i32.const 41))))
  (func (export "canister_update fill") (memory.fill (i32.const 0) (i32.const 7) (i32.const 1000)))
  (func (export "canister_update div") (drop (i64.div_s (i64.const 100) (i64.const 7))))
  (func (export "canister_update simd")
    (drop (f32x4.mul
      (f32x4.add (v128.const f32x4 1 2 3 4) (v128.const f32x4 5 6 7 8))
      (f32x4.splat (f32.const 2)))))
  (func (export "canister_update argcopy")
    (call $arg_copy (i32.const 0) (i32.const 0) (call $arg_size)))
  (func (export "canister_update stable_write")
    (drop (call $s_grow (i64.const 1)))
    (call $s_write (i64.const 0) (i64.const 0) (i64.const 5000)))
  (func (export "canister_query perf") (call $reply_nat64 (call $perf (i32.const 0))))
)`;

/**
 * For timing tests: `burn(n)` runs a loop of n iterations (6 instructions each: local.get, i32.const, i32.sub,
 * local.set, local.get, br_if), then increments heap word 0 and replies with it, so replies show the order in
 * which the canister executed them; `burn_counted(n)` runs the same loop and replies with the performance
 * counter; `count` is a query of heap word 0.
 */
export const BURN_WAT = `(module ${COMMON}
  (func $burn (local $i i32)
    (call $arg_copy (i32.const 4096) (i32.const 0) (i32.const 11))
    (local.set $i (i32.load (i32.const 4103)))
    (if (local.get $i) (then
      (loop $l
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br_if $l (local.get $i))))))
  (func (export "canister_update burn")
    (call $burn)
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (call $reply_nat32 (i32.load (i32.const 0))))
  (func (export "canister_update burn_counted")
    (call $burn)
    (call $reply_nat64 (call $perf (i32.const 0))))
  (func (export "canister_query count") (call $reply_nat32 (i32.load (i32.const 0))))
)`;

export const burnIdl = ({ IDL: idl = IDL } = {}) => idl.Service({
  burn: idl.Func([idl.Nat32], [idl.Nat32], []),
  burn_counted: idl.Func([idl.Nat32], [idl.Nat64], []),
  count: idl.Func([], [idl.Nat32], ['query']),
});
