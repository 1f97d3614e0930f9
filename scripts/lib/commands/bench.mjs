// scripts/bench: IC instructions of the model canister for the seed's benchmark table, on a fresh local replica
// with a random full-size GPT-2, written to docs/benchmark.md.

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { allCells, B, formatB, parseCells, promptIds, QUICK_CELLS, renderReport, withOtherSections } from '../bench.mjs';
import { parseFlags } from '../cli.mjs';
import { deployCanister } from '../deploy.mjs';
import { describeError } from '../errors.mjs';
import { importLocalReplica } from '../local-replica.mjs';
import { createModelActor, liftHourlyBudgets, unwrap } from '../model-canister.mjs';
import { uploadModelWithAgent } from '../model-upload.mjs';
import { createAgent } from '../network.mjs';
import { MODEL_WASM, REPO_ROOT, statePaths } from '../paths.mjs';
import { formatDuration } from '../progress.mjs';
import { commitDescription, machineDescription } from '../provenance.mjs';
import { ensureRandomModel, GPT2_SMALL_SHAPE } from '../random-model.mjs';
import {
  MODES, renderStreamingSection, runTurn, streamingPromptIds, summarize, withReplicaTimes, withStreamingSection,
} from '../streaming-bench.mjs';

const STREAMING_USERS = 4;
const STREAMING_PROMPT_TOKENS = 20;
const STREAMING_ANSWER_TOKENS = 200;

const USAGE = `usage: scripts/bench [--quick | --cells 1x1,64x8] [--precision f32|int8] [--out docs/benchmark.md] [--wasm model-canister/target/model.wasm]
       scripts/bench --streaming [--time-scale 1] [--out docs/benchmark.md] [--wasm …]

Starts a fresh local replica (IC limits), installs model.wasm, uploads a random GPT-2 of the full 124M shape
(generated once into .state/bench-model) and measures IC instructions for input lengths 1..1024 × generated
tokens 1, 2, 4, 8 (the seed's table), setup_model and an upgrade's post_upgrade. Prints the report and writes it
to --out. --quick runs ${QUICK_CELLS} only. --precision int8 loads int8 weights (setup_model_with_precision) and also
reports the logit error against f32, from scripts/gpt2-jvm on the same model.

--streaming measures what users feel on mainnet instead, under local-replica's mainnet timing model (simulated IC
seconds; at --time-scale X a simulated second takes at least X real seconds): time to first token, gaps between visible updates and tokens
per second, for one chat (new and follow-up) and for ${STREAMING_USERS} users at once, in fewest-calls mode (36 B per call) and
with the canister's adaptive budgets (one call kept queued). It replaces only that section of --out.`;

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

/** A new greedy turn on the seed's prompt of `input` ids, with the canister's maximum call budget. */
async function startTurn(model, input, maxNewTokens) {
  return unwrap(await model.start_turn({
    session_id: [], prompt: '', prompt_ids: [promptIds(input)],
    settings: { max_new_tokens: maxNewTokens, temperature: 0, top_k: 0, top_p: 1, seed: 0n, call_budget: [BigInt(CANISTER_CALL_BUDGET)] },
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

/** Tokens the canister generates in one call after a 1-token prompt, with its maximum budget. */
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

/** A chat client of its own identity: its actor and principal text. */
async function chatUser(url, canisterId) {
  const identity = Ed25519KeyIdentity.generate();
  const model = await createModelActor(await createAgent({ url, mainnet: false }, identity), canisterId);
  return { model, principal: identity.getPrincipal().toText() };
}

/** The streaming scenarios in one mode, on a model canister under IC timing, timed by the replica. */
async function measureStreaming({ local, url, canisterId, mode, say }) {
  const { replica } = local;
  const clock = () => replica.timing.seconds();
  const turn = async (user, sessionId, offset) => {
    const seen = replica.timedCalls.length;
    const result = await runTurn({
      model: user.model, clock, sessionId, promptIds: streamingPromptIds(STREAMING_PROMPT_TOKENS, offset), maxNewTokens: STREAMING_ANSWER_TOKENS, mode,
    });
    const calls = replica.timedCalls.slice(seen).filter((c) => c.caller === user.principal && c.canister === canisterId);
    const timed = withReplicaTimes(result, calls);
    say(`    calls (received → certified, tokens): ${calls.map((c, i) => `${c.receivedAt.toFixed(1)}→${c.certifiedAt} (${timed.replies[i].tokens})`).join(', ')}`);
    // the client's reaction: from a reply's certification to the next call it sends, in fewest-calls mode
    if (mode.queued === 0) reactions.push(...calls.slice(1).map((c, i) => c.receivedAt - calls[i].certifiedAt));
    return timed;
  };
  const reactions = [];
  const user = await chatUser(url, canisterId);
  const newChat = await turn(user, null, 0);
  say(`  new chat: ${JSON.stringify(summarize(newChat))}`);
  const followUp = await turn(user, newChat.sessionId, 1);
  say(`  follow-up: ${JSON.stringify(summarize(followUp))}`);
  const users = await Promise.all(Array.from({ length: STREAMING_USERS }, () => chatUser(url, canisterId)));
  const turns = await Promise.all(users.map((u, i) => turn(u, null, i)));
  const sent = Math.min(...turns.map((t) => t.sent));
  const usersTotal = Math.max(...turns.map((t) => t.replies.at(-1).at)) - sent;
  const summaries = turns.map(summarize);
  const tokens = summaries.reduce((n, u) => n + u.tokens, 0);
  say(`  ${STREAMING_USERS} users: ${JSON.stringify(summaries)}`);
  return {
    newChat: summarize(newChat), followUp: summarize(followUp), users: summaries, usersTotal, usersTokensPerSecond: tokens / usersTotal,
    reaction: reactions.length ? reactions.reduce((a, b) => a + b, 0) / reactions.length : null,
  };
}

/**
 * Real milliseconds a status query takes while a 36 B update executes (after a first update made the worker's
 * copy), sent from a worker thread as from another process.
 */
async function queryDuringLongUpdate({ local, url, canisterId }) {
  const { model } = await chatUser(url, canisterId);
  const probe = new Worker(new URL('../status-probe-worker.mjs', import.meta.url), { workerData: { url, canisterId } });
  const answer = () => new Promise((resolve, reject) => {
    probe.once('message', resolve);
    probe.once('error', reject);
  });
  await answer();
  const request = (maxNewTokens) => model.start_turn({
    session_id: [], prompt: '', prompt_ids: [streamingPromptIds(STREAMING_PROMPT_TOKENS)],
    settings: { max_new_tokens: maxNewTokens, temperature: 0, top_k: 0, top_p: 1, seed: 0n, call_budget: [BigInt(CANISTER_CALL_BUDGET)] },
  });
  unwrap(await model.end_session(unwrap(await request(1), 'start_turn').session_id), 'end_session');
  const update = request(1000);
  const executing = () => [...local.replica.requests.values()].some((r) => r.status === 'processing');
  while (!executing()) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 500));
  probe.postMessage('status');
  const { ms } = await answer();
  await probe.terminate();
  if (!executing()) throw new Error('the 36 B update ended before the status query answered: the measurement is void');
  unwrap(await model.end_session(unwrap(await update, 'start_turn').session_id), 'end_session');
  return ms;
}

async function streamingBenchmark({ values, wasm, started, say }) {
  const timeScale = Number(values['time-scale']);
  if (!(timeScale > 0)) throw new Error(`--time-scale expects a positive number\n${USAGE}`);
  const modelDir = statePaths().benchModel;
  if (!fs.existsSync(path.join(modelDir, 'model.safetensors'))) say(`Generating a random full-size GPT-2 (~500 MB) into ${path.relative(REPO_ROOT, modelDir)}...`);
  await ensureRandomModel(modelDir, GPT2_SMALL_SHAPE);
  const { startReplica, icTimingOption } = await importLocalReplica();
  // No 202 fallback: the agent's real-time polling would distort the compressed clock.
  const icTiming = icTimingOption({ preset: 'mainnet', timeScale, syncCallTimeoutSeconds: Infinity });
  const local = await startReplica({ port: 0 });
  try {
    const agent = await createAgent({ url: local.url, mainnet: false }, Ed25519KeyIdentity.generate());
    const { canisterId } = await deployCanister({ agent, wasm });
    say(`Installed model.wasm as ${canisterId} on a fresh local replica (${local.url}); uploading the model...`);
    await uploadModelWithAgent({ agent, canisterId, dir: modelDir });
    // The set-up does not count: IC timing from here on.
    local.replica.setIcTiming(icTiming);
    const model = await createModelActor(agent, canisterId);
    await liftHourlyBudgets(model);
    const parameters = Number((await model.status()).model[0].parameters);
    say('A status query during a 36 B update...');
    const queryMs = await queryDuringLongUpdate({ local, url: local.url, canisterId });
    say(`  ${queryMs.toFixed(0)} ms`);
    const results = {};
    for (const mode of MODES) {
      say(`${mode.title}:`);
      results[mode.key] = await measureStreaming({ local, url: local.url, canisterId, mode, say });
    }
    const { instructionsPerSlice, secondsPerRound, roundsBeforeExecution, roundsAfterExecution } = icTiming;
    const section = renderStreamingSection({
      results,
      meta: {
        date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
        commit: commitDescription(),
        machine: machineDescription(),
        node: process.versions.node,
        duration: formatDuration((performance.now() - started) / 1000),
        timing: `${formatB(instructionsPerSlice)} instructions per round of ${secondsPerRound} s, a message inducted ${roundsBeforeExecution} `
          + `round after it arrives and certified ${roundsAfterExecution} round after it ends`,
        timeScale,
        shape: `${GPT2_SMALL_SHAPE.layers} layers, ${GPT2_SMALL_SHAPE.embd} embd: ${(parameters / 1e6).toFixed(1)} M parameters`,
        promptTokens: STREAMING_PROMPT_TOKENS,
        maxNewTokens: STREAMING_ANSWER_TOKENS,
        users: STREAMING_USERS,
        queryMs,
      },
    });
    const document = fs.existsSync(values.out) ? fs.readFileSync(values.out, 'utf8') : '';
    fs.mkdirSync(path.dirname(values.out), { recursive: true });
    fs.writeFileSync(values.out, withStreamingSection(document, section));
    process.stdout.write(`\n${section}`);
    say(`\nWritten to ${path.resolve(values.out)}`);
  } finally {
    await local.close();
  }
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
      streaming: { type: 'boolean', default: false },
      'time-scale': { type: 'string', default: '1' },
    },
  });
  if (!['f32', 'int8'].includes(values.precision)) throw new Error(`--precision is f32 or int8\n${USAGE}`);
  if (values.quick && values.cells) throw new Error(`--quick and --cells exclude each other\n${USAGE}`);
  if (values.streaming && (values.quick || values.cells || values.precision !== 'f32')) {
    throw new Error(`--streaming runs its own scenarios in f32\n${USAGE}`);
  }
  const cells = values.cells ? parseCells(values.cells) : values.quick ? parseCells(QUICK_CELLS) : allCells();
  const wasmPath = path.resolve(values.wasm);
  if (!fs.existsSync(wasmPath)) throw new Error(`${wasmPath} does not exist: build it (mvn -B -q package -DskipTests)`);
  const wasm = fs.readFileSync(wasmPath);
  const started = performance.now();
  const say = (line) => process.stderr.write(`${line}\n`);
  if (values.streaming) {
    await streamingBenchmark({ values, wasm, started, say });
    return;
  }

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
    await liftHourlyBudgets(model);
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
    const previous = fs.existsSync(values.out) ? fs.readFileSync(values.out, 'utf8') : '';
    fs.writeFileSync(values.out, withOtherSections(report, previous));
    process.stdout.write(`\n${report}`);
    say(`\nWritten to ${path.resolve(values.out)}`);
  } finally {
    await local.close();
  }
}
