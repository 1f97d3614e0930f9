#!/usr/bin/env node
// local-replica command line:
//   node local-replica/cli.mjs start --port <p> [--host <h>] [--state <dir>] [--serve <dir>]
//        [--canister-name <name>=<id> ...] [--max-update-instructions N] [--max-query-instructions N]
//        [--max-install-instructions N] [--max-inspect-instructions N] [--max-ingress-bytes N]
//        [--max-reply-bytes N] [--max-query-reply-bytes N] [--max-wasm-memory-pages N]
//        [--max-stable-pages N] [--dirty-page-overhead N]
//        [--ic-timing mainnet [--instructions-per-slice N] [--seconds-per-round S] [--rounds-before-execution N]
//         [--rounds-after-execution N] [--sync-call-timeout-seconds S] [--time-scale X] [--instruction-scale K]]
// Prints exactly one JSON line {"url", "rootKey"} on stdout when ready; logs go to stderr.

import { startReplica, DEFAULT_OPTIONS, IC_TIMING_PRESETS } from './index.mjs';

const NUMERIC = Object.keys(DEFAULT_OPTIONS).filter((k) => typeof DEFAULT_OPTIONS[k] === 'number');
// The IC timing model's parameters (defaults: the preset's), the time scale (default 1: real IC seconds) and the
// instruction scale (default 1: each executed instruction counts once).
const POSITIVE_TIMING = ['timeScale', 'instructionScale'];
const TIMING = [...Object.keys(IC_TIMING_PRESETS.mainnet), ...POSITIVE_TIMING];
const kebab = (name) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function usage(message) {
  if (message) process.stderr.write(`local-replica: ${message}\n`);
  process.stderr.write(`usage: node cli.mjs start --port <p> [--host <h>] [--state <dir>] [--serve <dir>] [--canister-name name=id]\n`
    + `       ${NUMERIC.map((k) => `[--${kebab(k)} N]`).join(' ')}\n`
    + `       [--ic-timing ${Object.keys(IC_TIMING_PRESETS).join('|')} ${TIMING.map((k) => `[--${kebab(k)} N]`).join(' ')}]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command !== 'start') usage(command ? `unknown command '${command}'` : 'missing command');
  const options = { port: 4943, canisterNames: {} };
  const timingFields = {};
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = rest[++i];
    if (value === undefined) usage(`missing value for ${flag}`);
    const numeric = NUMERIC.find((k) => `--${kebab(k)}` === flag);
    const timing = TIMING.find((k) => `--${kebab(k)}` === flag);
    if (flag === '--port') options.port = Number(value);
    else if (flag === '--host') options.host = value;
    else if (flag === '--state') options.stateDir = value;
    else if (flag === '--serve') options.serveDir = value;
    else if (flag === '--canister-name') {
      const eq = value.indexOf('=');
      if (eq <= 0) usage(`--canister-name expects name=id, got '${value}'`);
      options.canisterNames[value.slice(0, eq)] = value.slice(eq + 1);
    } else if (flag === '--ic-timing') {
      if (!IC_TIMING_PRESETS[value]) usage(`--ic-timing expects one of ${Object.keys(IC_TIMING_PRESETS).join(', ')}`);
      timingFields.preset = value;
    } else if (timing) {
      const n = Number(value);
      const positive = POSITIVE_TIMING.includes(timing);
      if (!Number.isFinite(n) || n < 0 || (positive && n === 0)) usage(`${flag} expects a ${positive ? 'positive' : 'non-negative'} number`);
      timingFields[timing] = n;
    } else if (numeric) {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) usage(`${flag} expects a non-negative number`);
      options[numeric] = n;
    } else usage(`unknown flag '${flag}'`);
  }
  if (Object.keys(timingFields).length) {
    if (!timingFields.preset) usage('the timing flags need --ic-timing');
    options.icTiming = timingFields;
  }
  return options;
}

const running = await startReplica(parseArgs(process.argv.slice(2)));
process.stdout.write(`${JSON.stringify({ url: running.url, rootKey: running.rootKey })}\n`);
process.stderr.write(`local-replica listening on ${running.url}\n`);
const stop = () => running.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
