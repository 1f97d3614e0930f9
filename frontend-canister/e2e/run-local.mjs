// Runs the end-to-end scenarios against the real model canister: two local replicas (local-replica/) serve the built
// page (dist/) next to model.wasm, one with a tiny random model uploaded and one without.
//
//   node e2e/run-local.mjs [test files…]   # default: every e2e/*.test.mjs; e2e/ic-timing.test.mjs (named or by
//                                          # default) runs afterwards on a replica with the mainnet timing model
//                                          # (see TIMED_RUN)
//   node e2e/run-local.mjs --serve         # only print {"loaded","unloaded"} URLs and keep serving
//   node e2e/run-local.mjs --ic-timing mainnet [--time-scale X] …   # update calls take the IC mainnet's time
//                                          # (local-replica's icTiming; the tests see E2E_IC_TIMING and E2E_TIME_SCALE)
//
// Needs `npm run build` here, model-canister/target/model.wasm (scripts/dev), `npm ci` at the repository root and in
// local-replica/, and python3 with numpy for scripts/make-random-model. `npm run e2e:local` builds the page first.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { icTimingOption } from '../../local-replica/index.mjs';
import { modelFiles, randomModel, setUp, uploadModel } from '../../model-canister/src/test/node/canister/support.mjs';

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

/** A replica serving the page, whose ic_env cookie points at a freshly installed model canister. */
async function servePage({ model, timing }) {
  // The set-up and upload take no simulated time; the timing starts with the page's calls.
  const env = await setUp({ serveDir: distDir });
  env.replica.setNames({ model: env.canisterId.toText() });
  if (model) await uploadModel(env.actor, modelFiles(model));
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

const loaded = await servePage({ model: modelDir, timing: icTiming });
const unloaded = await servePage({ timing: icTiming });
const closeAll = () => Promise.all([loaded.close(), unloaded.close()]);

if (args.includes('--serve')) {
  console.log(JSON.stringify({ loaded: loaded.url, unloaded: unloaded.url }));
  process.on('SIGINT', () => closeAll().then(() => process.exit(0)));
} else {
  // Without --ic-timing the timing scenarios get the timed pass only (in the first they would skip).
  const timedPass = !icTiming && (args.length === 0 || TIMED_RUN.tests.some((file) => args.includes(file)));
  const firstPass = timedPass ? args.filter((file) => !TIMED_RUN.tests.includes(file)) : args;
  let code =
    args.length > 0 && firstPass.length === 0
      ? 0
      : await runTests(firstPass, {
          CHAT_URL: loaded.url,
          CHAT_URL_UNLOADED: unloaded.url,
          E2E_MODEL_DIR: modelDir,
          ...timingEnv(icTiming),
        });
  await closeAll();
  // Runs even after a failed first pass, so one run reports both.
  if (timedPass) {
    const timed = await servePage({ model: randomModel(TIMED_RUN.modelSpec), timing: TIMED_RUN.icTiming });
    code = (await runTests(TIMED_RUN.tests, { CHAT_URL: timed.url, ...timingEnv(TIMED_RUN.icTiming) })) || code;
    await timed.close();
  }
  process.exit(code);
}
