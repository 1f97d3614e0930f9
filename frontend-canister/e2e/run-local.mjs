// Runs the end-to-end scenarios against the real model canister: two local replicas (local-replica/) serve the built
// page (dist/) next to model.wasm, one with a tiny random model uploaded and one without.
//
//   node e2e/run-local.mjs [test files…]   # default: every e2e/*.test.mjs
//   node e2e/run-local.mjs --serve         # only print {"loaded","unloaded"} URLs and keep serving
//   node e2e/run-local.mjs --ic-timing mainnet [--time-scale X] …   # update calls take the IC mainnet's time
//                                          # (local-replica's icTiming; the tests see E2E_IC_TIMING and E2E_TIME_SCALE)
//
// Needs `npm run build` here, model-canister/target/model.wasm (scripts/dev), `npm ci` at the repository root and in
// local-replica/, and python3 with numpy for scripts/make-random-model. `npm run e2e:local` builds the page first.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { modelFiles, randomModel, setUp, uploadModel } from '../../model-canister/src/test/node/canister/support.mjs';

const frontendDir = fileURLToPath(new URL('..', import.meta.url));
const distDir = fileURLToPath(new URL('../dist/', import.meta.url));

/** A replica serving the page, whose ic_env cookie points at a freshly installed model canister. */
const modelDir = randomModel();

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
const icTiming = icTimingPreset && { preset: icTimingPreset, ...(timeScale !== null ? { timeScale: Number(timeScale) } : {}) };

async function servePage({ withModel }) {
  const env = await setUp({ serveDir: distDir, icTiming });
  env.replica.setNames({ model: env.canisterId.toText() });
  if (withModel) await uploadModel(env.actor, modelFiles(modelDir));
  return env;
}

const loaded = await servePage({ withModel: true });
const unloaded = await servePage({ withModel: false });
const closeAll = () => Promise.all([loaded.close(), unloaded.close()]);

if (args.includes('--serve')) {
  console.log(JSON.stringify({ loaded: loaded.url, unloaded: unloaded.url }));
  process.on('SIGINT', () => closeAll().then(() => process.exit(0)));
} else {
  const tests = spawn(process.execPath, ['--test', ...(args.length ? args : ['e2e/'])], {
    cwd: frontendDir,
    stdio: 'inherit',
    env: {
      ...process.env,
      CHAT_URL: loaded.url,
      CHAT_URL_UNLOADED: unloaded.url,
      E2E_MODEL_DIR: modelDir,
      ...(icTiming ? { E2E_IC_TIMING: icTiming.preset, E2E_TIME_SCALE: String(icTiming.timeScale ?? 1) } : {}),
    },
  });
  const code = await new Promise((resolve) => tests.on('exit', (status) => resolve(status ?? 1)));
  await closeAll();
  process.exit(code);
}
