// scripts/bench-upload: wall time of a parallel upload of a full-size model.safetensors (510 MB) to a fresh local
// replica, with 1 and with N concurrent put_safetensors_chunk calls; checks the canister's SHA-256 against the
// file's and writes a section of docs/benchmark.md.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { replaceSection } from '../bench.mjs';
import { parseFlags, positiveInteger } from '../cli.mjs';
import { deployCanister } from '../deploy.mjs';
import { createModelActor, MODEL_FILES } from '../model-canister.mjs';
import { createAgent } from '../network.mjs';
import { LOCAL_REPLICA_DIR, MODEL_WASM, REPO_ROOT, statePaths } from '../paths.mjs';
import { formatBytes } from '../progress.mjs';
import { commitDescription, machineDescription } from '../provenance.mjs';
import { ensureRandomModel, GPT2_SMALL_SHAPE } from '../random-model.mjs';
import { chunkUploader, hashFile } from '../upload.mjs';

export const UPLOAD_SECTION = '## Uploading the model in parallel chunks';

const USAGE = `usage: scripts/bench-upload [--concurrency 1,4] [--out docs/benchmark.md] [--wasm model-canister/target/model.wasm]

For each concurrency: starts a fresh local replica (a separate process, IC limits), installs model.wasm and uploads
a random GPT-2 model.safetensors of the real file's size (generated once into .state/bench-model-510mb) with that
many put_safetensors_chunk calls in flight, then finish_safetensors_upload; reports the wall time, the calls and
their instructions, and checks the canister's SHA-256 against the file's. Writes the section "${UPLOAD_SECTION.slice(3)}"
of --out (the rest of the file is kept).`;

/** Starts `node local-replica/cli.mjs start --port 0` in its own process; resolves to { url, stop }. */
function startReplicaProcess() {
  const child = spawn(process.execPath, [path.join(LOCAL_REPLICA_DIR, 'cli.mjs'), 'start', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      const line = stdout.split('\n').find((l) => l.startsWith('{"url"'));
      if (line) resolve({ url: JSON.parse(line).url, stop });
    });
    child.once('exit', (code) => reject(new Error(`the local replica exited (${code}) before it listened:\n${stderr}`)));
  });
}

async function measure({ wasm, modelDir, concurrency, fileSha256, say }) {
  const replica = await startReplicaProcess();
  try {
    const agent = await createAgent({ url: replica.url, mainnet: false }, Ed25519KeyIdentity.generate());
    const { canisterId } = await deployCanister({ agent, wasm });
    const actor = await createModelActor(agent, canisterId);
    const file = MODEL_FILES.find((f) => f.key === 'safetensors');
    const filePath = path.join(modelDir, file.fileName);
    const size = fs.statSync(filePath).size;
    await fetch(`${replica.url}/_/messages`, { method: 'DELETE' });
    say(`\n${concurrency} concurrent call${concurrency > 1 ? 's' : ''}: uploading ${formatBytes(size)} to ${canisterId}`);
    const started = performance.now();
    await chunkUploader(actor, { concurrency, log: say }).upload(file, filePath, 0, size);
    const seconds = (performance.now() - started) / 1000;
    const status = await actor.status();
    const landed = Buffer.from(status.safetensors_sha256).toString('hex');
    if (Number(status.safetensors_bytes) !== size || landed !== fileSha256) {
      throw new Error(`the canister holds ${status.safetensors_bytes} bytes with SHA-256 ${landed}; the file ${size} bytes, ${fileSha256}`);
    }
    const messages = await (await fetch(`${replica.url}/_/messages`)).json();
    const of = (method) => messages.filter((m) => m.method === method && m.kind === 'update' && m.outcome === 'reply');
    const sum = (list) => list.reduce((n, m) => n + Number(m.instructions), 0);
    const puts = of(file.put);
    const finishes = of(file.finish);
    return { concurrency, seconds, size, puts: puts.length, putInstructions: sum(puts), finishes: finishes.length, finishInstructions: sum(finishes), sha256: landed };
  } finally {
    await replica.stop();
  }
}

function render(results, meta) {
  const M = (n) => `${(n / 1e6).toFixed(1)} M`;
  const B = (n) => `${(n / 1e9).toFixed(1)} B`;
  const rows = results.map((r) => `| ${r.concurrency} | ${r.seconds.toFixed(0)} s | ${(r.size / 1e6 / r.seconds).toFixed(1)} MB/s | ${r.puts} × put (${M(r.putInstructions / r.puts)} instructions each) | ${r.finishes} × finish (${B(r.finishInstructions)} in all) |`);
  return `${UPLOAD_SECTION}

\`scripts/bench-upload\` (${meta.date}, commit ${meta.commit}; ${meta.machine}; Node ${meta.node}): a random
\`model.safetensors\` of the real file's size (${meta.size.toLocaleString('en-US')} bytes, 2,000,000-byte chunks) sent
with \`put_safetensors_chunk\` by the agent to a fresh local replica in its own process, then
\`finish_safetensors_upload\` until the canister has checked every chunk and hashed the file. Each run ended with the
canister's SHA-256 equal to the file's (\`${meta.sha256}\`).

| Calls in flight | Wall time | Rate | Chunk calls | Finishing |
|---:|---:|---:|---|---|
${rows.join('\n')}

The local replica runs one message at a time, like a canister on the IC, so extra calls in flight only overlap the
client's work (reading, encoding, signing) and the transfer with the canister's execution. On the IC an update
also waits about 2 s for consensus: there sequential calls (the seed's uploader, \`append_*\`) wait ≈ 2 s per
chunk each, while several calls in flight fill the rounds.
`;
}

export async function main(argv) {
  const { values } = parseFlags(argv, {
    usage: USAGE,
    options: {
      concurrency: { type: 'string', default: '1,4' },
      out: { type: 'string', default: path.join(REPO_ROOT, 'docs', 'benchmark.md') },
      wasm: { type: 'string', default: MODEL_WASM },
    },
  });
  const levels = values.concurrency.split(',').map((n) => positiveInteger(n.trim(), '--concurrency'));
  const wasmPath = path.resolve(values.wasm);
  if (!fs.existsSync(wasmPath)) throw new Error(`${wasmPath} does not exist: build it (mvn -B -q package -DskipTests)`);
  const wasm = fs.readFileSync(wasmPath);
  const say = (line) => process.stderr.write(`${line}\n`);

  const modelDir = `${statePaths().benchModel}-510mb`;
  if (!fs.existsSync(path.join(modelDir, 'model.safetensors'))) say(`Generating a random full-size GPT-2 (510 MB) into ${path.relative(REPO_ROOT, modelDir)}...`);
  await ensureRandomModel(modelDir, { ...GPT2_SMALL_SHAPE, 'with-attn-bias': true });
  const { fileSha256 } = await hashFile(path.join(modelDir, 'model.safetensors'), 0);

  const results = [];
  for (const concurrency of levels) {
    const result = await measure({ wasm, modelDir, concurrency, fileSha256, say });
    say(`${concurrency} in flight: ${result.seconds.toFixed(1)} s, SHA-256 equal to the file's`);
    results.push(result);
  }
  const section = render(results, {
    date: new Date().toISOString().slice(0, 10),
    commit: commitDescription(),
    machine: machineDescription(),
    node: process.versions.node,
    size: results[0].size,
    sha256: fileSha256,
  });
  const existing = fs.existsSync(values.out) ? fs.readFileSync(values.out, 'utf8') : '';
  fs.writeFileSync(values.out, replaceSection(existing, UPLOAD_SECTION, section));
  process.stdout.write(`\n${section}`);
  say(`\nWritten to ${path.resolve(values.out)}`);
}
