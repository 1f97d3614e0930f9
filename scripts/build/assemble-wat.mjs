#!/usr/bin/env node
// Assembles a WebAssembly text file (e.g. the SIMD kernels) with binaryen's wasm-as.
// Usage: assemble-wat.mjs <in.wat> <out.wasm>. A missing input is not an error: there is nothing to merge yet.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { binaryen, FEATURE_FLAGS } from './binaryen-tools.mjs';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: assemble-wat.mjs <in.wat> <out.wasm>');
  process.exit(2);
}
if (!existsSync(input)) {
  console.log(`[wasm] ${input} not found: no kernels to assemble`);
} else {
  mkdirSync(dirname(output), { recursive: true });
  binaryen('wasm-as', [input, '-o', output, ...FEATURE_FLAGS]);
  console.log(`[wasm] assembled ${output}`);
}
