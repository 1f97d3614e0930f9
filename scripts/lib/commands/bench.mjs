// scripts/bench: IC instructions of the model canister for the seed's benchmark table, on a fresh local replica
// with a random full-size GPT-2, written to docs/benchmark.md.

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { allCells, B, formatB, parseCells, promptIds, QUICK_CELLS, renderReport, replaceSection, sectionOf } from '../bench.mjs';
import { parseFlags } from '../cli.mjs';
import { deployCanister } from '../deploy.mjs';
import { describeError } from '../errors.mjs';
import { importLocalReplica } from '../local-replica.mjs';
import { createModelActor, unwrap } from '../model-canister.mjs';
import { uploadModelWithAgent } from '../model-upload.mjs';
import { createAgent } from '../network.mjs';
import { MODEL_WASM, REPO_ROOT, statePaths } from '../paths.mjs';
import { formatDuration } from '../progress.mjs';
import { commitDescription, machineDescription } from '../provenance.mjs';
import { ensureRandomModel, GPT2_SMALL_SHAPE } from '../random-model.mjs';
import { UPLOAD_SECTION } from './bench-upload.mjs';

const USAGE = `usage: scripts/bench [--quick | --cells 1x1,64x8] [--precision f32|int8] [--out docs/benchmark.md] [--wasm model-canister/target/model.wasm]

Starts a fresh local replica (IC limits), installs model.wasm, uploads a random GPT-2 of the full 124M shape
(generated once into .state/bench-model) and measures IC instructions for input lengths 1..1024 × generated
tokens 1, 2, 4, 8 (the seed's table), setup_model and an upgrade's post_upgrade. Prints the report and writes it
to --out. --quick runs ${QUICK_CELLS} only. --precision int8 loads int8 weights (setup_model_with_precision) and also
reports the logit error against f32, from scripts/gpt2-jvm on the same model.`;

/** Instructions the canister lets one call spend on generation (ModelService.MAX_CALL_BUDGET). */
const CANISTER_CALL_BUDGET = 36 * B;

/** The last metered message for `method` in the replica's log. */
function lastMessage(replica, method, kind = 'update') {
  const entry = replica.messages.findLast((m) => m.method === method && m.kind === kind);
  if (!entry) throw new Error(`the replica logged no ${kind} message '${method}'`);
  return entry;
}

/** Cost model for choosing inference vs. a session and for the ETA: per prompt token and per generated token. */
class CostEstimate {
  constructor({ parameters, n_positions: positions }) {
    // The canister's own first guesses (ModelService): 3 and 4 instructions per parameter.
    this.prompt = 3 * Number(parameters);
    this.generated = 4 * Number(parameters);
    this.positions = positions;
    this.instructionsPerSecond = null;
  }

  /** Expected instructions of a cell; none for a prompt the context cannot hold (the canister rejects it at once). */
  of({ input, generated }) {
    return input >= this.positions ? 0 : input * this.prompt + generated * this.generated;
  }

  learn(results, result, seconds) {
    const one = results.find((r) => r.input === result.input && r.generated === 1 && r.instructions);
    if (result.generated === 1) this.prompt = result.instructions / result.input;
    else if (one) this.generated = (result.instructions - one.instructions) / (result.generated - 1);
    const rate = result.instructions / seconds;
    this.instructionsPerSecond = this.instructionsPerSecond ? (this.instructionsPerSecond + rate) / 2 : rate;
  }
}

async function measureInference(model, replica, { input, generated }) {
  const reply = unwrap(await model.inference(promptIds(input), generated, 0), 'inference');
  const tokens = unwrap(reply.result, 'inference').length;
  return { instructions: lastMessage(replica, 'inference').instructions, calls: 1, tokens, method: 'inference' };
}

/** A new greedy turn on the seed's prompt of `input` ids, with the canister's default call budget. */
async function startTurn(model, input, maxNewTokens) {
  return unwrap(await model.start_turn({
    session_id: [], prompt: '', prompt_ids: [promptIds(input)],
    settings: { max_new_tokens: maxNewTokens, temperature: 0, top_k: 0, top_p: 1, seed: 0n, call_budget: [] },
  }), 'start_turn');
}

async function measureSession(model, replica, { input, generated }) {
  let progress = await startTurn(model, input, generated);
  let instructions = lastMessage(replica, 'start_turn').instructions;
  let calls = 1;
  while (!progress.done) {
    progress = unwrap(await model.continue_turn(progress.session_id), 'continue_turn');
    instructions += lastMessage(replica, 'continue_turn').instructions;
    calls++;
  }
  unwrap(await model.end_session(progress.session_id), 'end_session');
  return { instructions, calls, tokens: progress.generated_tokens, method: 'session' };
}

/** One cell: one inference call when it is expected to fit, else a session; errors are recorded, not thrown. */
async function measureCell(model, replica, cell, estimate) {
  try {
    if (estimate.of(cell) <= CANISTER_CALL_BUDGET) {
      const result = await measureInference(model, replica, cell);
      // inference stops at the canister's call budget; a cut-short answer is redone across calls
      if (result.tokens === cell.generated || result.instructions < 0.8 * CANISTER_CALL_BUDGET) return result;
    }
    return await measureSession(model, replica, cell);
  } catch (e) {
    return { error: describeError(e).replace(/^\w+: /, '') };
  }
}

/** Tokens the canister generates in one call after a 1-token prompt, with its default budget. */
async function measureTokensPerCall(model, replica) {
  const progress = await startTurn(model, 1, 1000);
  unwrap(await model.end_session(progress.session_id), 'end_session');
  return { tokens: progress.token_ids.length, instructions: lastMessage(replica, 'start_turn').instructions };
}

/**
 * How far int8 weights move the logits: for a few prompts, the JVM engine's 10 highest logits of the first generated
 * position with f32 and with int8 weights (scripts/gpt2-jvm --int8), as top-1 agreement and the largest difference
 * relative to the f32 logits' spread.
 */
function int8LogitError(modelDir) {
  const top = (ids, int8) => {
    const out = execFileSync(path.join(REPO_ROOT, 'scripts', 'gpt2-jvm'), ['--model', modelDir, '--prompt-ids', ids.join(','),
      '--max-new-tokens', '1', ...(int8 ? ['--int8'] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    return JSON.parse(out.trim().split('\n').pop()).top;
  };
  const prompts = [[1, 2, 3, 4], [50258, 198, 2061, 318, 262, 3139, 286, 4881, 30, 628, 50259, 198], [464, 2068, 7586, 21831]];
  let agree = 0;
  let worst = 0;
  for (const ids of prompts) {
    const f32 = top(ids, false);
    const int8 = new Map(top(ids, true));
    if (f32[0][0] === [...int8.keys()][0]) agree++;
    const spread = f32[0][1] - f32[f32.length - 1][1];
    for (const [id, logit] of f32) {
      if (int8.has(id)) worst = Math.max(worst, Math.abs(int8.get(id) - logit) / Math.max(spread, 1e-9));
    }
  }
  return { prompts: prompts.length, agree, worst };
}

export async function main(argv) {
  const { values } = parseFlags(argv, {
    usage: USAGE,
    options: {
      quick: { type: 'boolean', default: false },
      cells: { type: 'string' },
      out: { type: 'string', default: path.join(REPO_ROOT, 'docs', 'benchmark.md') },
      wasm: { type: 'string', default: MODEL_WASM },
      precision: { type: 'string', default: 'f32' },
    },
  });
  if (!['f32', 'int8'].includes(values.precision)) throw new Error(`--precision is f32 or int8\n${USAGE}`);
  if (values.quick && values.cells) throw new Error(`--quick and --cells exclude each other\n${USAGE}`);
  const cells = values.cells ? parseCells(values.cells) : values.quick ? parseCells(QUICK_CELLS) : allCells();
  const wasmPath = path.resolve(values.wasm);
  if (!fs.existsSync(wasmPath)) throw new Error(`${wasmPath} does not exist: build it (mvn -B -q package -DskipTests)`);
  const wasm = fs.readFileSync(wasmPath);
  const started = performance.now();
  const say = (line) => process.stderr.write(`${line}\n`);

  const modelDir = statePaths().benchModel;
  if (!fs.existsSync(path.join(modelDir, 'model.safetensors'))) say(`Generating a random full-size GPT-2 (~500 MB) into ${path.relative(REPO_ROOT, modelDir)}...`);
  await ensureRandomModel(modelDir, GPT2_SMALL_SHAPE);

  const { startReplica } = await importLocalReplica();
  const local = await startReplica({ port: 0 });
  try {
    const agent = await createAgent({ url: local.url, mainnet: false }, Ed25519KeyIdentity.generate());
    const { canisterId } = await deployCanister({ agent, wasm });
    say(`Installed model.wasm as ${canisterId} on a fresh local replica (${local.url})`);
    await uploadModelWithAgent({ agent, canisterId, dir: modelDir });
    const model = await createModelActor(agent, canisterId);
    let setupModel = lastMessage(local.replica, 'setup_model').instructions;
    if (values.precision === 'int8') {
      unwrap(await model.setup_model_with_precision({ Int8: null }), 'setup_model_with_precision');
      setupModel = lastMessage(local.replica, 'setup_model_with_precision').instructions;
    }
    const modelInfo = (await model.status()).model[0];
    const parameters = Number(modelInfo.parameters);

    const estimate = new CostEstimate(modelInfo);
    const results = [];
    say(`\nMeasuring ${cells.length} cells (input × generated; ~${formatB(cells.reduce((n, c) => n + estimate.of(c), 0))} by the canister's first estimate)`);
    for (const [i, cell] of cells.entries()) {
      const cellStarted = performance.now();
      const result = { ...cell, ...(await measureCell(model, local.replica, cell, estimate)) };
      const seconds = (performance.now() - cellStarted) / 1000;
      results.push(result);
      if (!result.error) estimate.learn(results, result, seconds);
      const left = cells.slice(i + 1).reduce((n, c) => n + estimate.of(c), 0);
      const eta = estimate.instructionsPerSecond ? ` · ETA ${formatDuration(left / estimate.instructionsPerSecond)}` : '';
      say(`[${i + 1}/${cells.length}] ${cell.input}×${cell.generated}: ${result.error ? `rejected: ${result.error}`
        : `${formatB(result.instructions)} in ${result.calls} call${result.calls > 1 ? 's' : ''} (${result.method}), ${seconds.toFixed(1)} s`}${eta}`);
    }

    say('Measuring tokens per call and the upgrade...');
    const tokensPerCall = await measureTokensPerCall(model, local.replica);
    await deployCanister({ agent, wasm, canisterId, force: true });
    const postUpgrade = lastMessage(local.replica, 'upgrade', 'install').instructions;
    if (!(await model.status()).model_loaded) throw new Error('the model is not loaded after the upgrade (post_upgrade did not reload it)');

    const logitError = values.precision === 'int8' ? int8LogitError(modelDir) : null;
    const report = renderReport({
      results, setupModel, postUpgrade, tokensPerCall, logitError,
      meta: {
        date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
        flags: [values.quick ? '--quick' : values.cells ? `--cells ${values.cells}` : '',
          values.precision === 'int8' ? '--precision int8' : ''].filter(Boolean).join(' '),
        precision: values.precision,
        wasm: `${(wasm.length / 1e6).toFixed(2)} MB, sha256 ${crypto.createHash('sha256').update(wasm).digest('hex').slice(0, 12)}`,
        commit: commitDescription(),
        machine: machineDescription(),
        node: process.versions.node,
        shape: `${GPT2_SMALL_SHAPE.layers} layers, ${GPT2_SMALL_SHAPE.heads} heads, ${GPT2_SMALL_SHAPE.embd} embd, `
          + `${GPT2_SMALL_SHAPE.positions} positions, vocab ${GPT2_SMALL_SHAPE.vocab}: ${(parameters / 1e6).toFixed(1)} M parameters`,
        duration: formatDuration((performance.now() - started) / 1000),
      },
    });
    fs.mkdirSync(path.dirname(values.out), { recursive: true });
    // scripts/bench-upload's section of the file stays.
    const upload = fs.existsSync(values.out) ? sectionOf(fs.readFileSync(values.out, 'utf8'), UPLOAD_SECTION) : null;
    fs.writeFileSync(values.out, upload ? replaceSection(report, UPLOAD_SECTION, upload) : report);
    process.stdout.write(`\n${report}`);
    say(`\nWritten to ${path.resolve(values.out)}`);
  } finally {
    await local.close();
  }
}
