// platform/module-limits.json is the one table of the IC's limits and names for canister modules: the IC
// module gate and the local replica must both accept a module at each limit they check and refuse one past it,
// accept the entry points it lists and refuse the export names it reserves.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { checkModule, LIMITS } from '../wasm-gate.mjs';
import { instrument } from '../../../local-replica/src/instrument.mjs';
import { LIMITS as REPLICA_LIMITS } from '../../../local-replica/src/module-limits.mjs';
import { Writer } from '../../../local-replica/src/wasm-binary.mjs';

const TABLE = JSON.parse(readFileSync(new URL('../../../platform/module-limits.json', import.meta.url), 'utf8'));

/**
 * A module with a memory (exported) and `functions` functions of type () -> (), each with `body(i)` as its code;
 * `exports[i]` names function i; `globals` i32 globals. Written directly: tens of thousands of functions or
 * 10 MiB of code take an assembler seconds.
 */
function module({ functions = 1, globals = 0, exports = [], body = () => [] }) {
  const w = new Writer().bytes([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  const section = (id, fill) => { const s = new Writer(); fill(s); w.byte(id).sized(s); };
  const times = (n, f) => { for (let i = 0; i < n; i++) f(i); };
  section(1, (s) => s.u32(1).byte(0x60).u32(0).u32(0));
  section(3, (s) => { s.u32(functions); times(functions, () => s.u32(0)); });
  section(5, (s) => s.u32(1).byte(0x01).u32(1).u32(100));
  if (globals) section(6, (s) => { s.u32(globals); times(globals, () => s.bytes([0x7f, 0, 0x41, 0, 0x0b])); });
  section(7, (s) => { s.u32(exports.length + 1).name('memory').byte(2).u32(0); exports.forEach((n, i) => s.name(n).byte(0).u32(i)); });
  section(10, (s) => { s.u32(functions); times(functions, (i) => s.sized(new Writer().u32(0).bytes(body(i)).byte(0x0b))); });
  return Buffer.from(w.finish());
}

test('the gate and the replica read the same limits, each a maximum with its source', () => {
  assert.deepEqual(LIMITS, REPLICA_LIMITS);
  for (const [name, { max, source }] of Object.entries(TABLE.limits)) {
    assert.ok(Number.isInteger(max) && max > 0, name);
    assert.match(source, /\S/, name);
  }
});

test('the gate and the replica accept a module at each limit both check and refuse one past it', () => {
  const methods = (names) => ({ functions: names.length, exports: names.map((n) => `canister_query ${n}`) });
  const cases = {
    functions: (n) => ({ functions: n }),
    globals: (n) => ({ globals: n }),
    methods: (n) => methods(Array.from({ length: n }, (_, i) => `m${i}`)),
    // 20 names sharing the total, the last one longer by the rest
    methodNameBytes: (n) => methods(Array.from({ length: 20 }, (_, i) => `m${i}`.padEnd(Math.floor(n / 20) + (i === 19 ? n % 20 : 0), 'x'))),
  };
  for (const [limit, shape] of Object.entries(cases)) {
    const max = LIMITS[limit];
    const at = module(shape(max));
    assert.deepEqual(checkModule(at), [], `gate at ${limit} = ${max}`);
    assert.doesNotThrow(() => instrument(at), `replica at ${limit} = ${max}`);
    const past = module(shape(max + 1));
    assert.ok(checkModule(past).some((p) => p.includes(`(limit ${max})`)), `gate past ${limit}`);
    assert.throws(() => instrument(past), new RegExp(`limit ${max}\\b`), `replica past ${limit}`);
  }
});

test('the gate and the replica refuse a code section past its limit', () => {
  // Bodies within the function size limit, together past the code section's. Their bytes are not valid
  // instructions, so binaryen (which the gate runs too) stops at once instead of reading 10 MiB of code.
  const max = LIMITS.codeSectionBytes;
  const functions = Math.ceil(max / LIMITS.functionBodyInstructions) + 1;
  const bytes = module({ functions, body: () => new Uint8Array(Math.ceil(max / functions)).fill(0xff) });
  assert.ok(checkModule(bytes).some((p) => /^code section is \d+ bytes/.test(p) && p.includes(`(limit ${max})`)), 'gate');
  assert.throws(() => instrument(bytes), new RegExp(`code section is too large .*limit ${max}\\)`), 'replica');
});

test('the gate and the replica accept the listed entry points and refuse the reserved export names', () => {
  const exporting = (name) => module({ exports: [name] });
  for (const name of [...TABLE.systemEntryPoints, ...TABLE.methodPrefixes.map((prefix) => `${prefix}ping`)]) {
    assert.deepEqual(checkModule(exporting(name)), [], name);
    assert.doesNotThrow(() => instrument(exporting(name)), name);
  }
  for (const name of [...TABLE.reservedExports, 'canister_foo']) {
    assert.ok(checkModule(exporting(name)).length > 0, `gate: ${name}`);
    assert.throws(() => instrument(exporting(name)), /reserved/, `replica: ${name}`);
  }
});
