// Shared set-up of the model canister's end-to-end tests: a local replica (local-replica/, the real model.wasm
// under IC semantics and metering), the official agent with the IDL generated from candid/model.did, random GPT-2
// models, the JVM reference (scripts/gpt2-jvm) and the upload sequence of the original README.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpAgent, Actor } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { modelIdlFactory } from '../../../../../scripts/build/model-bindings.mjs';
import { DEFAULT_OPTIONS, startReplica, managementIdlFactory } from '../../../../../local-replica/index.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', '..');
export const WASM_PATH = join(ROOT, 'model-canister', 'target', 'model.wasm');
export const B = 1_000_000_000;
/** The IC's limit for one update message (the replica's default); every generating call must stay under it. */
export const UPDATE_LIMIT = DEFAULT_OPTIONS.maxUpdateInstructions;

export { IDL, Principal, HttpAgent, Actor, Ed25519KeyIdentity, modelIdlFactory };

export function modelWasm() {
  if (!existsSync(WASM_PATH)) {
    throw new Error(`${WASM_PATH} is missing: build it with "mvn -B -q -o package -DskipTests"`);
  }
  return readFileSync(WASM_PATH);
}

// ---- models and the JVM reference ----

/** The tiny model of these tests: 2 layers, 2 heads, 64-dim embeddings, 128 positions, the real 50260 vocabulary. */
export const TINY = { layers: 2, heads: 2, embd: 64, positions: 128, vocab: 50260, seed: 3 };

/**
 * Writes (once per machine, cached under the temp dir) a random GPT-2 model with config.json, model.safetensors and
 * the real tokenizer.json, and returns its directory.
 */
export function randomModel(spec = TINY) {
  const s = { ...TINY, ...spec };
  const dir = join(tmpdir(), `icgpt2-test-model-L${s.layers}-H${s.heads}-E${s.embd}-P${s.positions}-V${s.vocab}-S${s.seed}`);
  if (existsSync(join(dir, 'done'))) return dir;
  const staging = `${dir}.${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  execFileSync(join(ROOT, 'scripts', 'make-random-model'), [
    '--layers', String(s.layers), '--heads', String(s.heads), '--embd', String(s.embd),
    '--positions', String(s.positions), '--vocab', String(s.vocab), '--seed', String(s.seed), '--out', staging,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  writeFileSync(join(staging, 'done'), '');
  try {
    renameSync(staging, dir);
  } catch (e) {
    // Another test file made it concurrently.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(dir, 'done'))) throw e;
  }
  return dir;
}

export function modelFiles(dir) {
  return {
    config: readFileSync(join(dir, 'config.json')),
    tokenizer: readFileSync(join(dir, 'tokenizer.json')),
    safetensors: readFileSync(join(dir, 'model.safetensors')),
  };
}

/**
 * Runs scripts/gpt2-jvm. Returns { text, ids } where ids are the generated ids (with a final stop token if one was
 * generated) and text is what the JVM printed before its JSON line (the decoded answer, special tokens skipped).
 */
export function jvm(modelDir, { prompt, promptIds, maxNewTokens, temperature = 0, topK, topP, seed, int8 = false } = {}) {
  const args = ['--model', modelDir, '--max-new-tokens', String(maxNewTokens), '--temperature', String(temperature)];
  if (prompt !== undefined) args.push('--prompt', prompt);
  if (promptIds !== undefined) args.push('--prompt-ids', promptIds.join(','));
  if (topK !== undefined) args.push('--top-k', String(topK));
  if (topP !== undefined) args.push('--top-p', String(topP));
  if (seed !== undefined) args.push('--seed', String(seed));
  if (int8) args.push('--int8');
  const out = execFileSync(join(ROOT, 'scripts', 'gpt2-jvm'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const withoutFinalNewline = out.endsWith('\n') ? out.slice(0, -1) : out;
  const cut = withoutFinalNewline.lastIndexOf('\n');
  const json = JSON.parse(withoutFinalNewline.slice(cut + 1));
  // The text is printed piece by piece, then println(decoder.finish()): one newline of its own before the JSON.
  const printed = cut < 0 ? '' : withoutFinalNewline.slice(0, cut);
  return { text: printed, ids: json.ids, top: json.top };
}

/** The stop tokens of the published model's chat format: "### End" and "<|endoftext|>". */
export const STOP_TOKENS = [50257, 50256];
export const INSTRUCTION = 50258;
export const RESPONSE = 50259;
export const frame = (ids) => [INSTRUCTION, 198, ...ids, 628, RESPONSE, 198];
export const withoutStop = (ids) => (ids.length && STOP_TOKENS.includes(ids[ids.length - 1]) ? ids.slice(0, -1) : ids);

export const sha256 = (bytes) => createHash('sha256').update(bytes).digest();
export const hex = (bytes) => Buffer.from(bytes).toString('hex');

// ---- replica, agents, canisters ----

/** Starts a local replica that logs nowhere (unless LOCAL_REPLICA_LOG is set). */
export function startTestReplica(options = {}) {
  const log = process.env.LOCAL_REPLICA_LOG ? (line) => process.stderr.write(`${line}\n`) : () => {};
  return startReplica({ port: 0, log, ...options });
}

export function newIdentity(seedByte) {
  return Ed25519KeyIdentity.generate(new Uint8Array(32).fill(seedByte));
}

export function newAgent(url, identity) {
  return HttpAgent.create({ host: url, identity, shouldFetchRootKey: true, verifyQuerySignatures: false });
}

export function managementActor(agent) {
  return Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa' });
}

export function modelActor(agent, canisterId) {
  return Actor.createActor(modelIdlFactory, { agent, canisterId });
}

/** Creates a canister controlled by the agent's identity and installs model.wasm. */
export async function deployModel(agent, wasm = modelWasm()) {
  const mgmt = managementActor(agent);
  const { canister_id: canisterId } = await mgmt.provisional_create_canister_with_cycles({
    amount: [], settings: [], specified_id: [], sender_canister_version: [],
  });
  await mgmt.install_code({ mode: { install: null }, canister_id: canisterId, wasm_module: wasm, arg: new Uint8Array(0), sender_canister_version: [] });
  return canisterId;
}

/** install_code in mode upgrade with the same (or another) wasm. */
export async function upgradeModel(agent, canisterId, wasm = modelWasm()) {
  await managementActor(agent).install_code({
    mode: { upgrade: [] }, canister_id: canisterId, wasm_module: wasm, arg: new Uint8Array(0), sender_canister_version: [],
  });
}

/**
 * One replica, one controller and one model canister: what every test file starts from.
 * Returns { url, replica, close, controller, agent, canisterId, actor, wasm }.
 */
export async function setUp(replicaOptions = {}) {
  const wasm = modelWasm();
  const node = await startTestReplica(replicaOptions);
  const controller = newIdentity(1);
  const agent = await newAgent(node.url, controller);
  const canisterId = await deployModel(agent, wasm);
  return { ...node, controller, agent, canisterId, actor: modelActor(agent, canisterId), wasm };
}

/** An actor on the same canister for another identity. */
export async function actorFor(env, identity) {
  return modelActor(await newAgent(env.url, identity), env.canisterId);
}

// ---- uploads ----

/** Splits bytes into `count` nearly equal chunks (at least one byte each), none above maxChunk. */
export function chunksOf(bytes, { count = 3, maxChunk = 1536 * 1024 } = {}) {
  const n = Math.max(count, Math.ceil(bytes.length / maxChunk));
  const size = Math.ceil(bytes.length / n);
  const chunks = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, Math.min(at + size, bytes.length)));
  return chunks;
}

export function assertOk(result, what = 'call') {
  assert.ok(result && typeof result === 'object', `${what}: not a result: ${result}`);
  assert.ok('Ok' in result, `${what}: expected Ok, got Err: ${result.Err}`);
  return result.Ok;
}

export function assertErr(result, pattern, what = 'call') {
  assert.ok(result && typeof result === 'object', `${what}: not a result: ${result}`);
  assert.ok('Err' in result, `${what}: expected Err, got Ok: ${JSON.stringify(result.Ok, jsonBigInt)}`);
  if (pattern) assert.match(result.Err, pattern, `${what}: unexpected message`);
  return result.Err;
}

export const jsonBigInt = (_, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? hex(v) : v);

/** The appending method and the *_bytes_length query of each file. */
const FILE_METHODS = {
  safetensors: ['append_safetensors_bytes', 'safetensors_bytes_length', 'clear_safetensors_bytes'],
  config: ['append_config_bytes', 'config_bytes_length', 'clear_config_bytes'],
  tokenizer: ['append_tokenizer_bytes', 'tokenizer_bytes_length', 'clear_tokenizer_bytes'],
};

/** Appends `bytes` in chunks (at least three); returns how many chunks were sent. */
export async function appendFile(actor, file, bytes, options) {
  const chunks = chunksOf(bytes, options);
  for (const chunk of chunks) await actor[FILE_METHODS[file][0]](chunk);
  return chunks.length;
}

export async function clearFile(actor, file) {
  await actor[FILE_METHODS[file][2]]();
}

export async function fileLength(actor, file) {
  return actor[FILE_METHODS[file][1]]();
}

/**
 * The original README's upload sequence, every file in at least three chunks, each Result checked to be Ok.
 * Returns the number of chunks per file.
 */
export async function uploadModel(actor, files) {
  const chunks = {};
  chunks.safetensors = await appendFile(actor, 'safetensors', files.safetensors);
  assertOk(await actor.store_safetensors_bytes_to_stable(), 'store_safetensors_bytes_to_stable');
  assertOk(await actor.load_safetensors_bytes_from_stable(), 'load_safetensors_bytes_from_stable');
  chunks.config = await appendFile(actor, 'config', files.config);
  assertOk(await actor.setup_model(), 'setup_model');
  chunks.tokenizer = await appendFile(actor, 'tokenizer', files.tokenizer);
  assertOk(await actor.store_tokenizer_bytes_to_stable(), 'store_tokenizer_bytes_to_stable');
  assertOk(await actor.load_tokenizer_bytes_from_stable(), 'load_tokenizer_bytes_from_stable');
  assertOk(await actor.setup_tokenizer(), 'setup_tokenizer');
  return chunks;
}

/** Replaces one uploaded file with `bytes` (clear, then append in chunks: three or more unless options say). */
export async function replaceFile(actor, file, bytes, options) {
  await clearFile(actor, file);
  await appendFile(actor, file, bytes, options);
}

// ---- status and the replica's message log ----

/**
 * The status record without the fields that legitimately move with every call: heap_bytes (TeaVM's GC heap changes
 * with any allocation, failed calls included: decoding an argument allocates) is dropped; everything else, the
 * instruction counters included, must stay as it was after a failed call.
 */
export function comparableStatus(status) {
  const { heap_bytes: _heap, ...rest } = status;
  return JSON.parse(JSON.stringify(rest, jsonBigInt));
}

/** The last log entry of `method` on the canister (update or query executions; not inspect_message). */
export function lastMessage(replica, method, canisterId) {
  const id = canisterId?.toText?.() ?? canisterId;
  for (let i = replica.messages.length - 1; i >= 0; i--) {
    const m = replica.messages[i];
    if (m.method === method && m.kind !== 'inspect_message' && (!id || m.canister === id)) return m;
  }
  return null;
}

/**
 * Runs a turn to the end with continue_turn. Returns { calls, tokens, text, progress (every TurnProgress) }.
 */
export async function runTurn(actor, request) {
  const progress = [assertOk(await actor.start_turn(request), 'start_turn')];
  while (!progress[progress.length - 1].done) {
    progress.push(assertOk(await actor.continue_turn(progress[0].session_id), 'continue_turn'));
    assert.ok(progress.length < 1000, 'the turn does not end');
  }
  return {
    sessionId: progress[0].session_id,
    calls: progress.length,
    tokens: progress.flatMap((p) => Array.from(p.token_ids)),
    text: progress.map((p) => p.text).join(''),
    progress,
  };
}

export function turnRequest({ sessionId, prompt = '', promptIds, maxNewTokens = 8, temperature = 0, topK = 0, topP = 1, seed = 0n, callBudget } = {}) {
  return {
    session_id: sessionId === undefined ? [] : [sessionId],
    prompt,
    prompt_ids: promptIds === undefined ? [] : [promptIds],
    settings: {
      max_new_tokens: maxNewTokens,
      temperature,
      top_k: topK,
      top_p: topP,
      seed: BigInt(seed),
      call_budget: callBudget === undefined ? [] : [BigInt(callBudget)],
    },
  };
}
