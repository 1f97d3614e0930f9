// scripts/loadtest: K simulated users chatting with N model canisters on a local replica started in-process under
// the IC's mainnet timing model; reports time to first token, tokens per second, failed calls and fairness in
// simulated IC seconds.

import fs from 'node:fs';
import path from 'node:path';
import { Actor } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { parseFlags, positiveInteger } from '../cli.mjs';
import { deployCanister } from '../deploy.mjs';
import { fleetNames } from '../fleet.mjs';
import { importLocalReplica } from '../local-replica.mjs';
import { formatLoadTable, pickCanister, simulateUser, summarizeLoad } from '../loadtest.mjs';
import { createModelActor, unwrap } from '../model-canister.mjs';
import { uploadModelWithAgent } from '../model-upload.mjs';
import { createAgent } from '../network.mjs';
import { MODEL_WASM, REPO_ROOT, statePaths } from '../paths.mjs';
import { DEMO_SHAPE, ensureRandomModel, GPT2_SMALL_SHAPE } from '../random-model.mjs';
import { sleep } from '../retry.mjs';

/** tiny: the cheapest to run; its long context holds the long prompts that stand for GPT-2 small's (see USAGE). */
const SHAPES = { tiny: { layers: 2, heads: 2, embd: 64, positions: 4096, vocab: 50260 }, demo: DEMO_SHAPE, 'gpt2-small': GPT2_SMALL_SHAPE };

/** GPT-2 small in f32 (docs/benchmark.md): instructions per generated token (context ≤ 64) and per prompt token. */
const GPT2_SMALL_TOKEN = { generated: 0.26e9, prompt: 0.17e9 };
const MAINNET_SLICE = 2e9;
/** Calls of a scaled run get this many slices by default (the adaptive schedule's first call for a short prompt)... */
const SCALED_CALL_SLICES = 3;
/** ...less what the canister's adaptive schedule keeps for the reply (its REPLY_RESERVE, 50 M of 2 B). */
const REPLY_RESERVE_SHARE = 0.025;
/** A prompt as long as the context of GPT-2 small's reference cost per generated token (≤ 64). */
const CALIBRATION_PROMPT = 64;
const SAMPLING = { temperature: 1, top_k: 40, top_p: 1 };
const CALIBRATION_TOKENS = 16;

const USAGE = `usage: scripts/loadtest [--replicas N] [--users K] [--turns T] [--prompt-tokens P] [--max-new-tokens M]
                        [--think S] [--arrivals S] [--shape tiny|demo|gpt2-small] [--time-scale X] [--stop-at S] [--seed N]
                        [--call-slices S] [--label TEXT] [--json FILE]

Starts a local replica in this process, deploys N model canisters (default 1) with a random model of --shape,
then turns on the mainnet timing model (--time-scale X: simulated seconds run 1/X as fast; default 1, since under
a smaller X the users' own work, signing calls and verifying certificates, counts 1/X times over) and lets
K users (default 8), each its own identity and agent, chat: T turns (default 3) of P prompt tokens (default 24)
and up to M new tokens (default 48). They arrive at random over the first --arrivals seconds (default 20) and
think about S seconds before each follow-up (default 3). A new conversation goes to the least busy canister and
stays there; --stop-at S stops the first canister at simulated second S, and its conversations move to another
canister and are replayed there. Prints a Markdown table row; --json FILE writes the summary.

With --shape tiny (the default: 2 layers of 64) or demo the timing is scaled to GPT-2 small: a calibration
turn measures the model's instructions per generated and per prompt token; slices are made as much smaller as a
generated token is cheaper than GPT-2 small's 0.26 B, prompts as much longer as reading a token is relatively
cheaper, and every call gets --call-slices slices (default ${SCALED_CALL_SLICES}: what the canister's adaptive schedule
gives the first call of a short prompt). So a turn takes about the rounds it takes with GPT-2 small. --shape gpt2-small runs the
real shape (about 2 GiB of memory per canister).`;

/** A seeded generator of floats in [0, 1) (mulberry32), so that runs with the same --seed think alike. */
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Token ids that are ordinary words of GPT-2's vocabulary (no special or stop tokens). */
const promptOf = (random, length) => Array.from({ length }, () => 1000 + Math.floor(random() * 20000));

/**
 * Instructions per generated and per prompt token of the canister's model, from two turns of known size with the
 * load test's sampling (top-k over the vocabulary costs a small model as much as a layer).
 */
async function calibrate(actor, random, sampling) {
  const turn = async (maxNewTokens) => {
    const progress = unwrap(await actor.start_turn({
      session_id: [], prompt: '', prompt_ids: [Uint32Array.from(promptOf(random, CALIBRATION_PROMPT))],
      settings: { ...sampling, max_new_tokens: maxNewTokens, seed: 0n, call_budget: [] },
    }), 'start_turn');
    if (!progress.done || progress.generated_tokens !== maxNewTokens) throw new Error('the calibration turn did not finish in one call');
    unwrap(await actor.end_session(progress.session_id), 'end_session');
    return Number(progress.instructions);
  };
  const short = await turn(1);
  const long = await turn(1 + CALIBRATION_TOKENS);
  const generated = (long - short) / CALIBRATION_TOKENS;
  return { generated, prompt: (short - generated) / CALIBRATION_PROMPT };
}

export async function main(argv) {
  const { values } = parseFlags(argv, {
    usage: USAGE,
    options: {
      replicas: { type: 'string', default: '1' },
      users: { type: 'string', default: '8' },
      turns: { type: 'string', default: '3' },
      'prompt-tokens': { type: 'string', default: '24' },
      'max-new-tokens': { type: 'string', default: '48' },
      think: { type: 'string', default: '3' },
      arrivals: { type: 'string', default: '20' },
      shape: { type: 'string', default: 'tiny' },
      'time-scale': { type: 'string', default: '1' },
      'stop-at': { type: 'string' },
      seed: { type: 'string', default: '1' },
      'call-slices': { type: 'string', default: String(SCALED_CALL_SLICES) },
      label: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const replicas = positiveInteger(values.replicas, '--replicas');
  const names = fleetNames(replicas);
  const users = positiveInteger(values.users, '--users');
  const turns = positiveInteger(values.turns, '--turns');
  const promptTokens = positiveInteger(values['prompt-tokens'], '--prompt-tokens');
  const maxNewTokens = positiveInteger(values['max-new-tokens'], '--max-new-tokens');
  const think = Number(values.think);
  const arrivals = Number(values.arrivals);
  const timeScale = Number(values['time-scale']);
  const stopAt = values['stop-at'] === undefined ? null : Number(values['stop-at']);
  const shape = SHAPES[values.shape];
  if (!shape) throw new Error(`--shape must be one of ${Object.keys(SHAPES).join(', ')}\n${USAGE}`);
  if (![think, arrivals, stopAt ?? 0].every((n) => n >= 0) || !(timeScale > 0)) {
    throw new Error(`--think, --arrivals, --time-scale and --stop-at take non-negative numbers\n${USAGE}`);
  }
  if (stopAt !== null && replicas < 2) throw new Error('--stop-at needs --replicas 2 or more (the conversations move to another canister)');
  if (users > 256 || turns > 64) throw new Error('at most 256 users and 64 turns');
  if (!fs.existsSync(MODEL_WASM)) throw new Error(`${MODEL_WASM} is missing: build it (mvn -B -q package -DskipTests)`);
  const callSlices = positiveInteger(values['call-slices'], '--call-slices');
  const random = seededRandom(positiveInteger(values.seed, '--seed'));
  const log = (line) => process.stderr.write(`${line}\n`);

  const modelDir = path.join(statePaths().dir, `loadtest-model-${values.shape}`);
  if (await ensureRandomModel(modelDir, shape)) log(`Generated ${path.relative(REPO_ROOT, modelDir)}`);
  const { startReplica, icTimingOption } = await importLocalReplica();
  if (!icTimingOption) throw new Error('this local replica has no IC timing model (local-replica --ic-timing): the load test needs it');
  const local = await startReplica({ port: 0, log: () => {} });
  try {
    const { replica } = local;
    const controller = await createAgent({ url: local.url, mainnet: false }, Ed25519KeyIdentity.generate());
    const wasm = fs.readFileSync(MODEL_WASM);
    const fleet = [];
    for (const name of names) {
      const { canisterId } = await deployCanister({ agent: controller, wasm });
      await uploadModelWithAgent({ agent: controller, canisterId, dir: modelDir, log: () => {}, progress: () => ({ update() {}, finish() {} }) });
      fleet.push({ name, canisterId });
      log(`${name}: ${canisterId}, model set up`);
    }

    let instructionsPerSlice = MAINNET_SLICE;
    let scaledPrompt = promptTokens;
    let callBudget = [];
    if (values.shape !== 'gpt2-small') {
      const cost = await calibrate(await createModelActor(controller, fleet[0].canisterId), random, SAMPLING);
      const scale = cost.generated / GPT2_SMALL_TOKEN.generated;
      instructionsPerSlice = Math.round(MAINNET_SLICE * scale);
      scaledPrompt = Math.max(1, Math.round(promptTokens * (GPT2_SMALL_TOKEN.prompt * scale) / cost.prompt));
      callBudget = [BigInt(Math.round((callSlices - REPLY_RESERVE_SHARE) * instructionsPerSlice))];
      log(`Calibration: ${(cost.generated / 1e6).toFixed(1)} M instructions per generated token, ${(cost.prompt / 1e6).toFixed(1)} M per prompt token; `
        + `slices of ${(instructionsPerSlice / 1e6).toFixed(0)} M (GPT-2 small's 2 B × ${scale.toFixed(4)}), prompts of ${scaledPrompt} tokens for ${promptTokens}`);
    }
    // Replies reach the users when certified, never as 202 + polling: the agent polls in real time, which the time
    // scale would stretch tenfold.
    replica.setIcTiming(icTimingOption({ preset: 'mainnet', timeScale, instructionsPerSlice, syncCallTimeoutSeconds: Infinity }));
    const clock = () => replica.timing.seconds();
    const sleepUntil = async (at) => { while (clock() < at) await sleep(Math.max(5, Math.min(200, (at - clock()) * timeScale * 1000))); };

    const settingsOf = (seed) => ({ ...SAMPLING, max_new_tokens: maxNewTokens, seed: BigInt(seed), call_budget: callBudget });
    const simulations = [];
    for (let u = 0; u < users; u++) {
      const agent = await createAgent({ url: local.url, mainnet: false }, Ed25519KeyIdentity.generate());
      const members = await Promise.all(fleet.map(async (m) => ({ ...m, actor: await createModelActor(agent, m.canisterId) })));
      const arrival = random() * arrivals;
      const jitter = Array.from({ length: turns }, () => 0.5 + random());
      simulations.push(simulateUser({
        pick: (exclude) => pickCanister(members, exclude, random),
        turns,
        promptIds: () => promptOf(random, scaledPrompt),
        settings: settingsOf(u + 1),
        think: (turn) => (turn === 0 ? arrival : think * jitter[turn]),
        clock,
        sleepUntil,
      }));
    }
    const startedAt = clock();
    const stopping = stopAt === null ? null : (async () => {
      await sleepUntil(startedAt + stopAt);
      const { managementIdlFactory } = await importLocalReplica();
      const management = Actor.createActor(managementIdlFactory, { agent: controller, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText(fleet[0].canisterId) });
      await management.stop_canister({ canister_id: Principal.fromText(fleet[0].canisterId) });
      log(`Stopped ${fleet[0].name} (${fleet[0].canisterId}) at simulated second ${(clock() - startedAt).toFixed(1)}`);
    })();
    const records = await Promise.all(simulations);
    await stopping;
    const summary = summarizeLoad(records);
    const label = values.label ?? `N = ${replicas}, K = ${users}${callSlices === SCALED_CALL_SLICES ? '' : `, calls of ${callSlices} slice${callSlices > 1 ? 's' : ''}`}`
      + `${stopAt === null ? '' : `, ${fleet[0].name} stopped at ${stopAt} s`}`;
    for (const [i, r] of records.entries()) {
      log(`user ${i + 1}: ${r.turns.length} turns on ${r.canisters.join(' → ')}, ${summary.userTokensPerSecond[i].toFixed(2)} tokens/s${r.lost ? `, LOST: ${r.error}` : ''}`);
    }
    process.stdout.write(`${formatLoadTable([{ label, summary }])}\n`);
    if (values.json) fs.writeFileSync(values.json, `${JSON.stringify({ label, replicas, users, turns, promptTokens, maxNewTokens, think, shape: values.shape, timeScale, stopAt, callSlices, instructionsPerSlice, summary }, null, 2)}\n`);
  } finally {
    await local.close();
  }
}
