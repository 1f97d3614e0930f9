// DFINITY's icp-cli (the real binary, npm @icp-sdk/icp-cli-linux-x64) against a fresh local replica, used as a
// connected network (url + root key): create, install, status, settings, deploy of model.wasm, the original
// upload sequence with ic-file-uploader's argument files through `icp canister call --args-file`, then generate,
// tokenize and status. Answers are decoded with the official agent's Candid and checked against the JVM reference.
//
//   node --test tests/icp-cli/

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  IDL, Principal, assertOk, jvm, modelActor, modelFiles, modelIdlFactory, newAgent, randomModel, startTestReplica,
} from '../../model-canister/src/test/node/canister/support.mjs';
import { CYCLES_LEDGER_FEE, DEVELOPMENT_CYCLES } from '../../local-replica/src/system-canisters.mjs';
import { parseModule } from '../../scripts/build/wasm-gate.mjs';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ICP = path.join(ROOT, 'node_modules', '@icp-sdk', 'icp-cli-linux-x64', 'bin', 'icp');
const MODEL_WASM = path.join(ROOT, 'model-canister', 'target', 'model.wasm');
/** ic-file-uploader's chunk: 2,000,000 bytes (its MAX_CANISTER_HTTP_PAYLOAD_SIZE). */
const UPLOADER_CHUNK = 2_000_000;
/** What `icp canister create` and `icp deploy` attach by default. */
const DEFAULT_CREATE_CYCLES = 2_000_000_000_000n;
const PROMPT = 'what is the capital of France?';

const missing = [ICP, MODEL_WASM].filter((file) => !fs.existsSync(file));
const skip = missing.length ? `needs ${missing.map((f) => path.relative(ROOT, f)).join(' and ')} (npm ci; mvn package)` : false;

const REPOSITORY_ICP_YAML = fs.readFileSync(path.join(ROOT, 'icp.yaml'), 'utf8');
/** The network of the repository's icp.yaml for the project's local replica, and its environment. */
const REPLICA_URL = 'http://127.0.0.1:4943';
const ENVIRONMENT = 'replica';

/** Replaces `pattern` in `text`, failing when the repository's icp.yaml no longer has that shape. */
function replaceOnce(text, pattern, replacement, what) {
  assert.match(text, pattern, `icp.yaml: ${what}`);
  return text.replace(pattern, replacement);
}

/**
 * The repository's icp.yaml with three changes: the model canister's Maven build step becomes the module built
 * already, the asset canister (a recipe downloaded from GitHub) is left out, and the replica network points at
 * this test's replica. Settings, init_args, the network's `root-key: fetch` and the environment stay as written.
 */
function testProjectYaml(replicaUrl) {
  let yaml = replaceOnce(REPOSITORY_ICP_YAML, /( {4}build:\n {6}steps:\n)[\s\S]*?(?=\n {4}settings:)/,
    `$1        - type: pre-built\n          path: ${MODEL_WASM}`, 'the model canister has build steps, then settings');
  yaml = replaceOnce(yaml, /\n {2}- name: frontend\n[\s\S]*?(?=\n\S)/, '\n', 'the frontend canister is the last one');
  return replaceOnce(yaml, new RegExp(`url: ${REPLICA_URL.replaceAll('.', '\\.')}\\n`), `url: ${replicaUrl}\n`, `a network at ${REPLICA_URL}`);
}

/** settings.wasm_memory_limit of the model canister in the repository's icp.yaml, in bytes. */
function repositoryMemoryLimit() {
  const [, amount, unit] = REPOSITORY_ICP_YAML.match(/wasm_memory_limit:\s*(\d+)(gib|mib)?\b/i) ?? [];
  assert.ok(amount, 'icp.yaml: the model canister sets wasm_memory_limit');
  return BigInt(amount) * ({ gib: 2n ** 30n, mib: 2n ** 20n }[unit?.toLowerCase()] ?? 1n);
}

/** ic-file-uploader's argument file for one chunk: Candid text `(blob "\XX\XX…")`, upper-case hex escapes. */
function uploaderArgument(bytes) {
  return `(blob "${Buffer.from(bytes).toString('hex').toUpperCase().replace(/../g, '\\$&')}")`;
}

const resultIdl = (method) => {
  const service = modelIdlFactory({ IDL });
  const func = service._fields.find(([name]) => name === method)?.[1];
  assert.ok(func, `model.did has ${method}`);
  return func.retTypes;
};

test('wasm_memory_limit: the same in icp.yaml and dfx.json, above the module\'s own maximum, below the IC default', { skip }, () => {
  const dfx = JSON.parse(fs.readFileSync(path.join(ROOT, 'dfx.json'), 'utf8'));
  const [, amount, unit] = dfx.canisters.model.initialization_values.wasm_memory_limit.match(/^(\d+)\s*(GiB|MiB)$/);
  assert.equal(BigInt(amount) * (unit === 'GiB' ? 2n ** 30n : 2n ** 20n), repositoryMemoryLimit());
  const [memory] = parseModule(fs.readFileSync(MODEL_WASM)).memories;
  assert.ok(BigInt(memory.max) * 65_536n <= repositoryMemoryLimit(), `the module may grow to ${memory.max} pages`);
  assert.ok(repositoryMemoryLimit() < 3n * 2n ** 30n, 'below the 3 GiB the IC gives a new canister');
});

describe('icp-cli against the local replica', { skip }, () => {
  let replica;
  let home;
  let project;
  let principal;
  let canisterId;
  let model;

  /**
   * Runs icp in the test project with no terminal on stdin (an interactive prompt fails at once); resolves to
   * stdout, rejects with stdout and stderr in the message.
   */
  function icp(...args) {
    return new Promise((resolve, reject) => {
      const child = spawn(ICP, args, {
        cwd: project,
        env: { ...process.env, ICP_HOME: home, ICP_ENVIRONMENT: ENVIRONMENT, DO_NOT_TRACK: '1', NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 300_000,
      });
      const out = { stdout: [], stderr: [] };
      child.stdout.on('data', (d) => out.stdout.push(d));
      child.stderr.on('data', (d) => out.stderr.push(d));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        const [stdout, stderr] = [out.stdout, out.stderr].map((parts) => Buffer.concat(parts).toString('utf8'));
        if (code === 0) resolve(stdout);
        else reject(new Error(`icp ${args.join(' ').slice(0, 200)} failed (${code ?? signal}):\n${stdout}\n${stderr}`));
      });
    });
  }

  /** The caller's cycles-ledger balance as `icp cycles balance --json` reports it. */
  async function cyclesBalance() {
    const { balance } = JSON.parse(await icp('cycles', 'balance', '--json'));
    return BigInt(balance.match(/^([\d_]+) cycles$/)[1].replaceAll('_', ''));
  }

  /** `icp canister call model METHOD` with the raw reply decoded by the official agent's Candid. */
  async function call(method, argument = '()', ...flags) {
    const hex = (await icp('canister', 'call', 'model', method, argument, ...flags, '--output', 'hex')).trim();
    assert.match(hex, /^4449444c([0-9a-f]{2})*$/, `${method}: icp printed no hex-encoded Candid reply`);
    const [value] = IDL.decode(resultIdl(method), new Uint8Array(Buffer.from(hex, 'hex')));
    return value;
  }

  before(async () => {
    model = randomModel();
    replica = await startTestReplica();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'icp-home-'));
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'icp-project-'));
    fs.writeFileSync(path.join(project, 'icp.yaml'), testProjectYaml(replica.url));
    await icp('identity', 'new', 'deployer', '--storage', 'plaintext', '--quiet');
    await icp('identity', 'default', 'deployer');
    principal = (await icp('identity', 'principal')).trim();
  });

  after(async () => {
    await replica?.close();
    for (const dir of [home, project]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('icp canister create goes through the CMC and the cycles ledger, funded from the identity\'s cycles', async () => {
    assert.equal(await cyclesBalance(), DEVELOPMENT_CYCLES);
    const out = await icp('canister', 'create', 'model', '--quiet');
    canisterId = out.trim();
    const canister = replica.replica.canisters.get(canisterId);
    assert.ok(canister, `${canisterId} exists on the replica`);
    assert.deepEqual(canister.controllers.map((c) => Principal.fromUint8Array(c).toText()), [principal]);
    const ids = JSON.parse(fs.readFileSync(path.join(project, '.icp', 'data', 'mappings', `${ENVIRONMENT}.ids.json`), 'utf8'));
    assert.equal(ids.model, canisterId);
    assert.equal(await cyclesBalance(), DEVELOPMENT_CYCLES - DEFAULT_CREATE_CYCLES - CYCLES_LEDGER_FEE);
  });

  test('icp build + icp canister install, status and settings show decode the current management records', async () => {
    await icp('build', 'model');
    await icp('canister', 'install', 'model');
    const moduleHash = crypto.createHash('sha256').update(fs.readFileSync(MODEL_WASM)).digest('hex');
    const status = await icp('canister', 'status', 'model');
    assert.match(status, /Status: Running/);
    assert.match(status, new RegExp(`Module hash: 0x${moduleHash}`));
    assert.match(status, new RegExp(`Cycles: ${DEFAULT_CREATE_CYCLES.toLocaleString('en-US').replaceAll(',', '_')}`));
    assert.match(status, new RegExp(`controller: ${principal}`));
    const settings = await icp('canister', 'settings', 'show', 'model');
    assert.match(settings, /Freezing threshold: 2_592_000/);
    assert.match(settings, /Wasm memory limit: 3_221_225_472/); // the IC's default until icp deploy applies icp.yaml
  });

  test('icp deploy upgrades the canister, applies icp.yaml\'s settings and sets PUBLIC_CANISTER_ID:model', async () => {
    await icp('deploy', 'model', '--yes');
    const canister = replica.replica.canisters.get(canisterId);
    assert.equal(canister.envVars.get('PUBLIC_CANISTER_ID:model'), canisterId);
    assert.equal(canister.settings.wasm_memory_limit, repositoryMemoryLimit());
    const settings = await icp('canister', 'settings', 'show', 'model');
    assert.match(settings, new RegExp(`PUBLIC_CANISTER_ID:model: ${canisterId}`));
    assert.ok(replica.replica.messages.some((m) => m.canister === canisterId && m.method === 'upgrade' && m.outcome === 'ok'));
  });

  test('the original upload sequence with ic-file-uploader\'s argument files, then generate, tokenize and status', async () => {
    const files = modelFiles(model);
    const argsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'icp-args-'));
    const appendFile = async (method, bytes) => {
      for (let at = 0, n = 0; at < bytes.length; at += UPLOADER_CHUNK, n++) {
        const argsFile = path.join(argsDir, `${method}-${n}.did`);
        fs.writeFileSync(argsFile, uploaderArgument(bytes.subarray(at, at + UPLOADER_CHUNK)));
        await icp('canister', 'call', 'model', method, '--args-file', argsFile);
        fs.rmSync(argsFile);
      }
    };
    try {
      await appendFile('append_safetensors_bytes', files.safetensors);
      assertOk(await call('store_safetensors_bytes_to_stable'), 'store_safetensors_bytes_to_stable');
      assertOk(await call('load_safetensors_bytes_from_stable'), 'load_safetensors_bytes_from_stable');
      await appendFile('append_config_bytes', files.config);
      assertOk(await call('setup_model'), 'setup_model');
      await appendFile('append_tokenizer_bytes', files.tokenizer);
      assertOk(await call('store_tokenizer_bytes_to_stable'), 'store_tokenizer_bytes_to_stable');
      assertOk(await call('load_tokenizer_bytes_from_stable'), 'load_tokenizer_bytes_from_stable');
      assertOk(await call('setup_tokenizer'), 'setup_tokenizer');
    } finally {
      fs.rmSync(argsDir, { recursive: true, force: true });
    }

    const status = await call('status', '()', '--query');
    const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');
    assert.equal(status.safetensors_bytes, BigInt(files.safetensors.length));
    assert.equal(Buffer.from(status.safetensors_sha256).toString('hex'), sha256(files.safetensors));
    assert.equal(Buffer.from(status.tokenizer_sha256).toString('hex'), sha256(files.tokenizer));
    assert.equal(Buffer.from(status.config_sha256).toString('hex'), sha256(files.config));
    assert.ok(status.model_loaded && status.tokenizer_loaded);

    const answer = assertOk(await call('generate', `(${JSON.stringify(PROMPT)}, 10:nat8, 0.0:float64)`), 'generate');
    assert.equal(answer, jvm(model, { prompt: PROMPT, maxNewTokens: 10 }).text);

    // tokenize through icp-cli equals tokenize through the official agent.
    const { token_ids: ids } = assertOk(await call('tokenize', `(${JSON.stringify(PROMPT)})`, '--query'), 'tokenize');
    const viaAgent = await modelActor(await newAgent(replica.url), canisterId).tokenize(PROMPT);
    assert.deepEqual(Array.from(ids), Array.from(assertOk(viaAgent).token_ids));
    assert.ok(ids.length > 3);
  });

  test('scripts/upload-model finds the canister in icp-cli\'s project state and signs as an icp-cli identity', async () => {
    const upload = (identityFlags) => new Promise((resolve) => {
      const child = spawn(process.execPath, [
        path.join(ROOT, 'scripts', 'upload-model'), '--network', replica.url, '--environment', ENVIRONMENT, '--uploader', 'agent',
        '--dir', model, ...identityFlags,
      ], { env: { ...process.env, ICP_HOME: home, ICP_PROJECT_ROOT: project, DO_NOT_TRACK: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d) => { output += d; });
      child.stderr.on('data', (d) => { output += d; });
      child.on('close', (code) => resolve({ code, output }));
    });
    const ok = await upload(['--icp-identity', 'deployer']);
    assert.equal(ok.code, 0, ok.output);
    assert.match(ok.output, new RegExp(`${canisterId}, from \\.icp/data/mappings/${ENVIRONMENT}\\.ids\\.json`));
    assert.match(ok.output, new RegExp(`signed by ${principal} \\(icp-cli identity 'deployer'\\)`));
    assert.match(ok.output, /already set up from these files/);
    await icp('identity', 'new', 'stranger', '--storage', 'plaintext', '--quiet');
    const refused = await upload(['--icp-identity', 'stranger']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, /may not upload to/);
  });
});
