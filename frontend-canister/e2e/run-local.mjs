// Runs the end-to-end scenarios against the real model canister: two local replicas (local-replica/) serve the built
// page (dist/) next to model.wasm, one with a tiny random model uploaded and one without.
//
//   node e2e/run-local.mjs [test files…]   # default: every e2e/*.test.mjs; e2e/ic-timing.test.mjs and
//                                          # e2e/fleet.test.mjs (named or by default) run afterwards on replicas of
//                                          # their own (see TIMED_RUN and FLEET_RUN)
//   node e2e/run-local.mjs --serve         # only print {"loaded","unloaded"} URLs and keep serving
//   node e2e/run-local.mjs --ic-timing mainnet [--time-scale X] …   # update calls take the IC mainnet's time
//                                          # (local-replica's icTiming; the tests see E2E_IC_TIMING and E2E_TIME_SCALE)
//
// Needs `npm run build` here, model-canister/target/model.wasm (scripts/dev), `npm ci` at the repository root and in
// local-replica/, and python3 with numpy for scripts/make-random-model. `npm run e2e:local` builds the page first.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { icTimingOption } from '../../local-replica/index.mjs';
import {
  deployModel,
  modelActor,
  modelFiles,
  randomModel,
  setUp,
  uploadModel,
} from '../../model-canister/src/test/node/canister/support.mjs';
import { fleetNames } from '../../scripts/lib/fleet.mjs';

const frontendDir = fileURLToPath(new URL('..', import.meta.url));
const distDir = fileURLToPath(new URL('../dist/', import.meta.url));

const modelDir = randomModel();
/**
 * The default run's second pass: the timing scenarios on a replica with the mainnet timing model, at twice the IC's
 * speed (a call of one slice still takes ~1.5 s, so Stop 300 ms after Send lands in the first call on a loaded
 * machine), with a model whose context holds their 400-token answers (the first call's 2 B slice makes ~280 tokens).
 */
const TIMED_RUN = {
  icTiming: { preset: 'mainnet', timeScale: 0.5 },
  modelSpec: { positions: 512 },
  tests: ['e2e/ic-timing.test.mjs'],
};
/**
 * The fleet scenarios' pass: a page whose ic_env cookie names two model canisters (model, model_1) with the model
 * loaded; the tests get the page as CHAT_URL_FLEET and the canisters' controller (to stop one) as E2E_CONTROLLER.
 */
const FLEET_RUN = { canisters: 2, tests: ['e2e/fleet.test.mjs'] };

/** Takes `--flag value` out of args; returns the value or null. */
function takeOption(args, flag) {
  const at = args.indexOf(flag);
  if (at < 0) return null;
  const [, value] = args.splice(at, 2);
  if (value === undefined) throw new Error(`${flag} needs a value`);
  return value;
}

const args = process.argv.slice(2);
const icTimingPreset = takeOption(args, '--ic-timing');
const timeScale = takeOption(args, '--time-scale');
if (timeScale !== null && icTimingPreset === null) throw new Error('--time-scale needs --ic-timing');
const icTiming = icTimingPreset && {
  preset: icTimingPreset,
  ...(timeScale !== null ? { timeScale: Number(timeScale) } : {}),
};

/** A replica serving the page, whose ic_env cookie points at freshly installed model canisters (model, model_1, …). */
async function servePage({ model, timing, canisters = 1 }) {
  // The set-up and upload take no simulated time; the timing starts with the page's calls.
  const env = await setUp({ serveDir: distDir });
  const ids = [env.canisterId];
  while (ids.length < canisters) ids.push(await deployModel(env.agent, env.wasm));
  env.replica.setNames(Object.fromEntries(fleetNames(canisters).map((name, i) => [name, ids[i].toText()])));
  if (model) for (const id of ids) await uploadModel(modelActor(env.agent, id), modelFiles(model));
  if (timing) env.replica.setIcTiming(icTimingOption(timing));
  return env;
}

/** Runs `node --test` on the given files (all of e2e/ when none) against the pages; resolves to its exit code. */
async function runTests(files, env) {
  const tests = spawn(process.execPath, ['--test', ...(files.length ? files : ['e2e/'])], {
    cwd: frontendDir,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  return new Promise((resolve) => tests.on('exit', (status) => resolve(status ?? 1)));
}

const timingEnv = (timing) =>
  timing ? { E2E_IC_TIMING: timing.preset, E2E_TIME_SCALE: String(timing.timeScale ?? 1) } : {};

/** The pages of the first pass: one with the model loaded, one without. */
async function serveFirstPass() {
  const loaded = await servePage({ model: modelDir, timing: icTiming });
  const unloaded = await servePage({ timing: icTiming });
  return { loaded, unloaded, close: () => Promise.all([loaded.close(), unloaded.close()]) };
}

if (args.includes('--serve')) {
  const pages = await serveFirstPass();
  console.log(JSON.stringify({ loaded: pages.loaded.url, unloaded: pages.unloaded.url }));
  process.on('SIGINT', () => pages.close().then(() => process.exit(0)));
} else {
  const named = (run) => args.length === 0 || run.tests.some((file) => args.includes(file));
  // Without --ic-timing the timing scenarios get the timed pass only (in the first they would skip), and the fleet
  // scenarios always get a pass of their own (in the first they skip).
  const timedPass = !icTiming && named(TIMED_RUN);
  const fleetPass = named(FLEET_RUN);
  const ownPass = [...(timedPass ? TIMED_RUN.tests : []), ...FLEET_RUN.tests];
  const firstPass = args.filter((file) => !ownPass.includes(file));
  let code = 0;
  if (args.length === 0 || firstPass.length > 0) {
    const pages = await serveFirstPass();
    code = await runTests(firstPass, {
      CHAT_URL: pages.loaded.url,
      CHAT_URL_UNLOADED: pages.unloaded.url,
      E2E_MODEL_DIR: modelDir,
      ...timingEnv(icTiming),
    });
    await pages.close();
  }
  // The later passes run even after a failed pass, so one run reports them all.
  if (fleetPass) {
    const fleet = await servePage({ model: modelDir, timing: icTiming, canisters: FLEET_RUN.canisters });
    const env = { CHAT_URL_FLEET: fleet.url, E2E_CONTROLLER: JSON.stringify(fleet.controller.toJSON()) };
    code = (await runTests(FLEET_RUN.tests, { ...env, ...timingEnv(icTiming) })) || code;
    await fleet.close();
  }
  if (timedPass) {
    const timed = await servePage({ model: randomModel(TIMED_RUN.modelSpec), timing: TIMED_RUN.icTiming });
    code = (await runTests(TIMED_RUN.tests, { CHAT_URL: timed.url, ...timingEnv(TIMED_RUN.icTiming) })) || code;
    await timed.close();
  }
  process.exit(code);
}
