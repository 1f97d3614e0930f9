#!/usr/bin/env node
// Assembles a WebAssembly text file (e.g. the SIMD kernels) with binaryen's wasm-as.
// Usage: assemble-wat.mjs <in.wat> <out.wasm>. A missing input fails the build: the canister would lack its kernels.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { binaryen, FEATURE_FLAGS } from './binaryen-tools.mjs';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: assemble-wat.mjs <in.wat> <out.wasm>');
  process.exit(2);
}
if (!existsSync(input)) {
  console.error(`[wasm] ${input} not found: nothing to assemble`);
  process.exit(1);
}
mkdirSync(dirname(output), { recursive: true });
binaryen('wasm-as', [input, '-o', output, ...FEATURE_FLAGS]);
console.log(`[wasm] assembled ${output}`);
