// A worker thread that executes one canister's update messages on its own copy
// of the canister (see update-executor.mjs), so the main thread stays free for
// HTTP requests and queries while an update runs. It reports each slice of
// instructions a message has used up, and each committed update sends back
// the heap chunks, stable pages and globals it changed.

import { parentPort, workerData } from 'node:worker_threads';
import { Canister } from './canister.mjs';

const { id, options, rootKey, subnetId } = workerData;
let time = 0n;
const canister = new Canister({
  id,
  controllers: [],
  env: {
    options: { ...options, log: null },
    rootKey,
    subnetId,
    now: () => time,
    log: (canisterText, text) => parentPort.postMessage({ type: 'log', text: `[canister ${canisterText}] ${text}` }),
  },
});

parentPort.on('message', (message) => {
  try {
    if (message.type === 'sync') {
      canister.restoreSnapshot(message.snapshot);
      parentPort.postMessage({ type: 'synced' });
      return;
    }
    const { kind, exportName, params, state, sliceInstructions } = message;
    time = message.time;
    canister.controllers = state.controllers;
    canister.status = state.status;
    canister.envVars = state.envVars;
    // reported as it runs, so the simulated clock can go on while a long message executes
    const slice = { instructions: sliceInstructions, done: (slices) => parentPort.postMessage({ type: 'progress', slices }) };
    const { trap, response, instructions, delta } = canister.runMessage(kind, exportName, params, { withDelta: true, slice });
    const transfer = delta ? delta.chunks.map(([, bytes]) => bytes.buffer) : [];
    parentPort.postMessage({ type: 'result', result: { trap, response, instructions, delta } }, transfer);
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: e.stack ?? String(e) });
  }
});
