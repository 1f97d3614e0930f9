#!/usr/bin/env node
// Turns TeaVM's output into the module the IC installs:
//   1. wasm-opt -O3 --strip-debug on TeaVM's module alone (also drops its malformed name section);
//   2. wasm-merge the kernel modules (--merge <module>=<file.wasm>; a missing file fails the build), so Java's
//      @Import(module = "<module>") natives resolve to their exports and they share TeaVM's memory ("main").
//      The kernels are hand-tuned for the IC's cost table and not optimized again (-O3 over their deeply unrolled
//      loops takes minutes and gains nothing);
//   3. embed the Candid interface as custom section "icp:public candid:service", as dfx does;
//   4. run the IC module gate (wasm-gate.mjs); on failure no output is left behind.
// Usage: postprocess-wasm.mjs --input raw.wasm --output out.wasm --candid service.did [--merge kernels=k.wasm]...
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { binaryen, ensureNodeModules, FEATURE_FLAGS } from './binaryen-tools.mjs';

ensureNodeModules();  // before loading the gate, which needs the binaryen package
const { checkModule, withCustomSection } = await import('./wasm-gate.mjs');

const { values } = parseArgs({
  options: {
    input: { type: 'string' },
    output: { type: 'string' },
    candid: { type: 'string' },
    merge: { type: 'string', multiple: true, default: [] },
  },
});
if (!values.input || !values.output || !values.candid) {
  console.error('usage: postprocess-wasm.mjs --input <raw.wasm> --output <out.wasm> --candid <service.did> [--merge <module>=<file.wasm>]...');
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'postprocess-wasm-'));
try {
  const merges = values.merge.map((spec) => {
    const [name, file] = spec.split('=');
    if (!name || !file) throw new Error(`--merge expects <module>=<file.wasm>, got ${spec}`);
    return { name, file };
  });
  const missing = merges.filter(({ file }) => !existsSync(file));
  if (missing.length > 0) {
    console.error(missing.map(({ name, file }) => `[wasm] ${file} not found: cannot merge module "${name}"`).join('\n'));
    rmSync(values.output, { force: true });
    process.exit(1);
  }

  let current = join(work, 'optimized.wasm');
  binaryen('wasm-opt', [values.input, '-O3', '--strip-debug', ...FEATURE_FLAGS, '-o', current]);
  if (merges.length > 0) {
    const merged = join(work, 'merged.wasm');
    binaryen('wasm-merge', [current, 'main', ...merges.flatMap(({ name, file }) => [file, name]),
      '-o', merged, ...FEATURE_FLAGS]);
    current = join(work, 'stripped.wasm');
    binaryen('wasm-opt', [merged, '--strip-debug', ...FEATURE_FLAGS, '-o', current]);
    console.log(`[wasm] merged ${merges.map(({ name }) => name).join(', ')} into ${values.input}`);
  }

  const candid = readFileSync(values.candid);
  const module = withCustomSection(readFileSync(current), 'icp:public candid:service', candid);
  const problems = checkModule(module);
  if (problems.length > 0) {
    console.error(`[wasm] IC module gate REFUSED ${values.output}:\n` + problems.map((p) => '  - ' + p).join('\n'));
    rmSync(values.output, { force: true });
    process.exit(1);
  }
  writeFileSync(values.output, module);
  console.log(`[wasm] wrote ${values.output} (${module.length} bytes; passed the IC module gate)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
