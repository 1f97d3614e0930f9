// Random GPT-2 weights with the real tokenizer (scripts/make-random-model), for demos, benchmarks and tests.

import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, readJson } from './paths.mjs';
import { run } from './process.mjs';

/** The chat demo when the real weights are absent: small enough to upload in seconds. */
export const DEMO_SHAPE = { layers: 4, heads: 4, embd: 256, positions: 1024, vocab: 50260 };
/** GPT-2 small (124M), the shape of vicgalle/gpt2-open-instruct-v1. */
export const GPT2_SMALL_SHAPE = { layers: 12, heads: 12, embd: 768, positions: 1024, vocab: 50260 };

function hasShape(dir, shape) {
  const config = readJson(path.join(dir, 'config.json'));
  return Boolean(config) && fs.existsSync(path.join(dir, 'model.safetensors')) && fs.existsSync(path.join(dir, 'tokenizer.json'))
    && config.n_layer === shape.layers && config.n_head === shape.heads && config.n_embd === shape.embd
    && config.n_positions === shape.positions && config.vocab_size === shape.vocab;
}

/** Writes a random model of `shape` into `dir` unless one is there already. Returns whether it generated one. */
export async function ensureRandomModel(dir, shape) {
  if (hasShape(dir, shape)) return false;
  const partial = `${dir}.partial`; // renamed into place when complete, so an interrupted run leaves no half model
  fs.rmSync(partial, { recursive: true, force: true });
  const flags = Object.entries(shape).flatMap(([name, value]) => (value === true ? [`--${name}`] : [`--${name}`, String(value)]));
  try {
    await run('python3', [path.join(REPO_ROOT, 'scripts', 'make-random-model'), ...flags, '--out', partial], { capture: true });
  } catch (e) {
    throw new Error(`generating a random model needs python3 with numpy: ${e.message}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(partial, dir);
  return true;
}
