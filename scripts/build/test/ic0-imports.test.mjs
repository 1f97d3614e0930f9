// platform/ic0-imports.json is the one table of the IC System API: the IC module gate and the local replica
// must both accept exactly its imports with exactly its signatures. (The Java bindings are checked against
// the same table by Ic0ImportsTest.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import binaryen from 'binaryen';
import { checkModule } from '../wasm-gate.mjs';
import { instrument } from '../../../local-replica/src/instrument.mjs';
import { buildImports, IC0_IMPORTS } from '../../../local-replica/src/ic0-imports.mjs';

const TABLE = JSON.parse(readFileSync(new URL('../../../platform/ic0-imports.json', import.meta.url), 'utf8')).imports;

/** A minimal canister that imports `ic0.<name>` with the given signature. */
function canisterImporting(name, params, results) {
  const type = `(param ${params.join(' ')}) (result ${results.join(' ')})`;
  const module = binaryen.parseText(`(module
    (import "ic0" "${name}" (func ${type}))
    (memory (export "memory") 1 100)
    (func (export "canister_init")))`);
  module.setFeatures(binaryen.Features.MVP);
  const bytes = Buffer.from(module.emitBinary());
  module.dispose();
  return bytes;
}

function replicaRefusal(bytes) {
  try {
    instrument(bytes);
    return null;
  } catch (e) {
    return e.message;
  }
}

test('the table lists the System API with wasm32 value types and an overhead per call', () => {
  assert.ok(Object.keys(TABLE).length >= 60);
  for (const [name, { params, results, overhead }] of Object.entries(TABLE)) {
    assert.ok([...params, ...results].every((t) => t === 'i32' || t === 'i64'), name);
    assert.ok(results.length <= 1, name);
    assert.ok(Number.isInteger(overhead) && overhead > 0, name);
  }
});

test('the gate and the replica accept every import of the table with its signature', () => {
  for (const [name, { params, results }] of Object.entries(TABLE)) {
    const bytes = canisterImporting(name, params, results);
    assert.deepEqual(checkModule(bytes), [], name);
    assert.equal(replicaRefusal(bytes), null, name);
  }
});

test('the gate and the replica refuse every import of the table with another signature', () => {
  for (const [name, { params, results }] of Object.entries(TABLE)) {
    const variants = [
      [[...params, 'i32'], results],
      [params, results.length === 0 ? ['i32'] : []],
      ...(params.length > 0 ? [[params.map((t) => (t === 'i32' ? 'i64' : 'i32')), results]] : []),
    ];
    for (const [p, r] of variants) {
      const bytes = canisterImporting(name, p, r);
      assert.ok(checkModule(bytes).some((problem) => problem.includes(`ic0.${name} as`)), `gate: ${name} (${p}) -> (${r})`);
      assert.match(replicaRefusal(bytes) ?? '', /incorrect signature/, `replica: ${name} (${p}) -> (${r})`);
    }
  }
});

test('the gate and the replica refuse an ic0 import the table does not list', () => {
  const bytes = canisterImporting('instruction_counter', [], ['i64']);
  assert.ok(checkModule(bytes).some((problem) => /not in the IC System API/.test(problem)));
  assert.match(replicaRefusal(bytes) ?? '', /not exported by the runtime/);
});

test('the replica charges the table overhead of each import', () => {
  for (const [name, { overhead }] of Object.entries(TABLE)) assert.equal(IC0_IMPORTS[name].cost, overhead, name);
});

test('the replica refuses to start when its availability list and the table disagree', () => {
  const where = Object.fromEntries(Object.keys(TABLE).map((name) => [name, []]));
  assert.doesNotThrow(() => buildImports(TABLE, where));
  const { time: _dropped, ...missingTime } = where;
  assert.throws(() => buildImports(TABLE, missingTime), /no availability: time/);
  assert.throws(() => buildImports(TABLE, { ...where, instruction_counter: [] }), /not in the table: instruction_counter/);
});
