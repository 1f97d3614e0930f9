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
import { busyShares, crowdingCheck, idleRounds, roundMap, formatLoadTable, placementPick, PLACEMENTS, simulateUser, summarizeLoad } from '../loadtest.mjs';
import { createModelActor, unwrap } from '../model-canister.mjs';
import { uploadModelWithAgent } from '../model-upload.mjs';
import { createAgent } from '../network.mjs';
import { MODEL_WASM, REPO_ROOT, statePaths } from '../paths.mjs';
import { ensureRandomModel, GPT2_SMALL_SHAPE } from '../random-model.mjs';
import { sleep } from '../retry.mjs';

/**
 * one-layer: GPT-2 small's width (768, 12 heads of 64) with one layer and a 4096-token vocabulary. Its instructions
 * per prompt and per generated token, and their growth with the context, are GPT-2 small's divided by one factor
 * (within 2%: a 20-token prompt and its first token, and whole turns of 20 + 48 tokens at contexts 0, 68 and 136),
 * so under that instruction scale it takes GPT-2 small's rounds for a twelfth of the host's work. gpt2-small: the
 * real shape, unscaled (about 2 GiB of memory per canister, twice with the timing model's copy).
 */
const SHAPES = {
  'one-layer': { shape: { layers: 1, heads: 12, embd: 768, positions: 1024, vocab: 4096, tokenizer: true }, scaled: true },
  'gpt2-small': { shape: GPT2_SMALL_SHAPE, scaled: false },
};

/**
 * GPT-2 small in f32 (the real shape with random weights, greedy, screened LM head), as the calibration below
 * measures it with --shape gpt2-small: instructions per generated token (context 20 to 36) and per token of a
 * 20-token prompt (batches of 16 and 4) at context 0.
 */
const GPT2_SMALL_TOKEN = { generated: 0.211e9, prompt: 0.158e9 };
const CALIBRATION_PROMPT = 20;
const CALIBRATION_TOKENS = 16;
/** Greedy, as the reference costs were measured (sampling at a temperature defeats the screened head on random weights). */
const SAMPLING = { temperature: 0, top_k: 0, top_p: 1 };
/** Tokens of each canister's warm-up turn (see USAGE). */
const WARM_UP_TOKENS = 4;
/** Enough for a calibration or warm-up turn in one call. */
const ONE_CALL = 30_000_000_000n;
/** GPT-2's first stop token: prompts hold ids below it. */
const FIRST_STOP_TOKEN = 50256;

const USAGE = `usage: scripts/loadtest [--replicas N] [--users K] [--turns T] [--prompt-tokens P] [--max-new-tokens M]
                        [--think S] [--arrivals S] [--shape one-layer|gpt2-small] [--time-scale X] [--stop-at S]
                        [--placement least-busy|even] [--seed N] [--label TEXT] [--json FILE]

Starts a local replica in this process, deploys N model canisters (default 1) with a random model of --shape,
then turns on the mainnet timing model (--time-scale X: simulated seconds run 1/X as fast; default 1, since under
a smaller X the users' own work, signing calls and verifying certificates, counts 1/X times over) and lets
K users (default 8), each its own identity and agent, chat as the chat page does (no call budget, so the
canister's adaptive schedule sizes the calls; one continue_turn queued behind the running call while the answer
needs more), decoding
greedily: T turns (default 3) of P prompt tokens (default 20) and up to M new tokens (default 48). They arrive at
random over the first --arrivals seconds (default 20) and think about S seconds before each follow-up (default 3).
A new conversation goes to the least busy canister, as the page's do, moves to a less crowded one after its first
reply if its own has 2 more conversations in use, and stays there (--placement even: user u to canister u mod N,
what a placement that knew every other user's choice would reach); --stop-at S stops the first canister
at simulated second S, and its conversations move to the least busy other canister and are replayed there. The
seed (--seed) draws the users' arrivals, think times and prompts, the same for any N. Prints a Markdown table
row; --json FILE writes the summary and every user's turns.

--shape one-layer (the default) runs as GPT-2 small: a calibration (before the timing model is on) measures its
instructions per generated token, and the replica's instruction scale makes each of its instructions count as
many times as GPT-2 small's ${GPT2_SMALL_TOKEN.generated / 1e9} B per generated token is larger, so its calls get GPT-2 small's
budgets and take its rounds. --shape gpt2-small runs the real shape, unscaled. Before the users come, every
canister runs one warm-up turn of P prompt tokens under the timing model: the canister sizes a turn's first call
from what prompts and tokens have cost it so far, as one that has served before would.`;

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

/** Prompt token ids of a vocabulary of `vocab` ids (no stop tokens). */
const promptOf = (random, length, vocab) => Array.from({ length }, () => Math.floor(random() * Math.min(vocab, FIRST_STOP_TOKEN)));

/** The first reply of a turn of `promptIds` that runs in one call; the session is ended. */
async function oneCallTurn(actor, promptIds, maxNewTokens) {
  const progress = unwrap(await actor.start_turn({
    session_id: [], prompt: '', prompt_ids: [Uint32Array.from(promptIds)],
    settings: { ...SAMPLING, max_new_tokens: maxNewTokens, seed: 0n, call_budget: [ONE_CALL] },
  }));
  unwrap(await actor.end_session(progress.session_id), 'end_session');
  if (!progress.done || progress.generated_tokens !== maxNewTokens) throw new Error(`a turn of ${maxNewTokens} tokens did not finish in one call`);
  return progress;
}

/**
 * Instructions per generated token and per prompt token of the canister's model, measured as GPT2_SMALL_TOKEN was:
 * a prompt and 1 token, the same prompt and 1 + CALIBRATION_TOKENS tokens.
 */
async function calibrate(actor, promptIds) {
  const short = Number((await oneCallTurn(actor, promptIds, 1)).instructions);
  const long = Number((await oneCallTurn(actor, promptIds, 1 + CALIBRATION_TOKENS)).instructions);
  const generated = (long - short) / CALIBRATION_TOKENS;
  return { generated, prompt: (short - generated) / promptIds.length };
}

export async function main(argv) {
  const { values } = parseFlags(argv, {
    usage: USAGE,
    options: {
      replicas: { type: 'string', default: '1' },
      users: { type: 'string', default: '8' },
      turns: { type: 'string', default: '3' },
      'prompt-tokens': { type: 'string', default: '20' },
      'max-new-tokens': { type: 'string', default: '48' },
      think: { type: 'string', default: '3' },
      arrivals: { type: 'string', default: '20' },
      shape: { type: 'string', default: 'one-layer' },
      'time-scale': { type: 'string', default: '1' },
      'stop-at': { type: 'string' },
      placement: { type: 'string', default: PLACEMENTS[0] },
      seed: { type: 'string', default: '1' },
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
  const model = SHAPES[values.shape];
  if (!model) throw new Error(`--shape must be one of ${Object.keys(SHAPES).join(', ')}\n${USAGE}`);
  if (![think, arrivals, stopAt ?? 0].every((n) => n >= 0) || !(timeScale > 0)) {
    throw new Error(`--think, --arrivals, --time-scale and --stop-at take non-negative numbers\n${USAGE}`);
  }
  if (!PLACEMENTS.includes(values.placement)) throw new Error(`--placement must be one of ${PLACEMENTS.join(', ')}\n${USAGE}`);
  if (stopAt !== null && replicas < 2) throw new Error('--stop-at needs --replicas 2 or more (the conversations move to another canister)');
  if (users > 256 || turns > 64) throw new Error('at most 256 users and 64 turns');
  if (!fs.existsSync(MODEL_WASM)) throw new Error(`${MODEL_WASM} is missing: build it (mvn -B -q package -DskipTests)`);
  const seed = positiveInteger(values.seed, '--seed');
  // The users' arrivals, think times and prompts come from their own generator, drawn before the run, so that a seed
  // puts the same load on any number of canisters; the set-up's prompts and the placement's tie-breaks from another.
  const loadRandom = seededRandom(seed);
  const random = seededRandom(seed + 0x9e3779b9);
  const prompt = (length, from = random) => promptOf(from, length, model.shape.vocab);
  const log = (line) => process.stderr.write(`${line}\n`);

  const modelDir = path.join(statePaths().dir, `loadtest-model-${values.shape}`);
  if (await ensureRandomModel(modelDir, model.shape)) log(`Generated ${path.relative(REPO_ROOT, modelDir)}`);
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
      fleet.push({ name, canisterId, actor: await createModelActor(controller, canisterId) });
      log(`${name}: ${canisterId}, model set up`);
    }

    const cost = await calibrate(fleet[0].actor, prompt(CALIBRATION_PROMPT));
    const instructionScale = model.scaled ? GPT2_SMALL_TOKEN.generated / cost.generated : 1;
    const asCounted = (instructions) => `${(instructions * instructionScale / 1e9).toFixed(3)} B`;
    log(`Calibration: ${asCounted(cost.generated)} per generated token, ${asCounted(cost.prompt)} per prompt token `
      + `(GPT-2 small: ${GPT2_SMALL_TOKEN.generated / 1e9} B and ${GPT2_SMALL_TOKEN.prompt / 1e9} B) at an instruction scale of ${instructionScale.toFixed(3)}`);
    // Replies reach the users when certified, never as 202 + polling: the agent polls in real time, which the time
    // scale would stretch tenfold.
    replica.setIcTiming(icTimingOption({ preset: 'mainnet', timeScale, instructionScale, syncCallTimeoutSeconds: Infinity }));
    await Promise.all(fleet.map(({ actor }) => oneCallTurn(actor, prompt(promptTokens), WARM_UP_TOKENS)));
    const clock = () => replica.timing.seconds();
    const sleepUntil = async (at) => { while (clock() < at) await sleep(Math.max(5, Math.min(200, (at - clock()) * timeScale * 1000))); };

    const settings = { ...SAMPLING, max_new_tokens: maxNewTokens, seed: 0n, call_budget: [] };
    const plans = [];
    for (let u = 0; u < users; u++) {
      const agent = await createAgent({ url: local.url, mainnet: false }, Ed25519KeyIdentity.generate());
      const members = await Promise.all(fleet.map(async ({ name, canisterId }) => ({ name, canisterId, actor: await createModelActor(agent, canisterId) })));
      const arrival = loadRandom() * arrivals;
      const jitter = Array.from({ length: turns }, () => 0.5 + loadRandom());
      const prompts = Array.from({ length: turns }, () => prompt(promptTokens, loadRandom));
      plans.push({ members, arrival, jitter, prompts });
    }
    // all at once, so that the arrivals count from one moment
    const startedAt = clock();
    const simulations = plans.map(({ members, arrival, jitter, prompts }, u) => simulateUser({
      pick: placementPick(values.placement, { members, index: u, random }),
      // the page's check for crowding after a new conversation's first reply; an even placement needs none
      lessCrowdedThan: values.placement === 'even' ? undefined : crowdingCheck(members, random),
      turns,
      promptIds: (turn) => prompts[turn],
      settings,
      think: (turn) => (turn === 0 ? arrival : think * jitter[turn]),
      clock,
      sleepUntil,
    }));
    const stopping = stopAt === null ? null : (async () => {
      await sleepUntil(startedAt + stopAt);
      const { managementIdlFactory } = await importLocalReplica();
      const management = Actor.createActor(managementIdlFactory, { agent: controller, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText(fleet[0].canisterId) });
      await management.stop_canister({ canister_id: Principal.fromText(fleet[0].canisterId) });
      log(`Stopped ${fleet[0].name} (${fleet[0].canisterId}) at simulated second ${(clock() - startedAt).toFixed(1)}`);
    })();
    const records = await Promise.all(simulations);
    await stopping;
    const summary = summarizeLoad(records, names);
    const canisterIds = fleet.map((f) => f.canisterId);
    summary.busy = summary.allUsers && busyShares(replica.timedCalls, canisterIds, summary.allUsers);
    summary.idle = summary.allUsers && idleRounds(replica.timedCalls, canisterIds, records, summary.allUsers);
    const label = values.label ?? `N = ${replicas}, K = ${users}${values.placement === PLACEMENTS[0] ? '' : `, placement ${values.placement}`}`
      + `${stopAt === null ? '' : `, ${fleet[0].name} stopped at ${stopAt} s`}`;
    for (const [i, r] of records.entries()) {
      log(`user ${i + 1}: ${r.turns.length} turns on ${r.canisters.join(' → ')}, ${summary.userTokensPerSecond[i].toFixed(2)} tokens/s${r.lost ? `, LOST: ${r.error}` : ''}`);
    }
    if (summary.allUsers) {
      log('What each canister executed, round by round, while all users chatted (a letter per user, capital: start_turn; #: end_session; .: idle):');
      for (const line of roundMap(replica.timedCalls, fleet, summary.allUsers)) log(`  ${line}`);
    }
    for (const [i, idle] of (summary.idle ?? []).entries()) {
      log(`${fleet[i].name}: idle ${idle.idle} of the ${summary.allUsers.seconds.toFixed(0)} s while all users chatted, `
        + `${idle.waiting} of them while one of its users waited for an answer`);
    }
    process.stdout.write(`${formatLoadTable([{ label, summary }])}\n`);
    if (values.json) {
      fs.writeFileSync(values.json, `${JSON.stringify({
        label, replicas, users, turns, promptTokens, maxNewTokens, think, arrivals, shape: values.shape, timeScale, stopAt, placement: values.placement,
        seed, instructionScale, calibration: cost, summary,
        records,
        // the replica's log of the fleet's update calls: when received and certified, the rounds they executed in
        calls: replica.timedCalls.filter((c) => fleet.some((f) => f.canisterId === c.canister)),
      }, null, 2)}\n`);
    }
  } finally {
    await local.close();
  }
}
