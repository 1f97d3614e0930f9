// Programmatic entry point of local-replica.
//
//   import { startReplica } from './local-replica/index.mjs';
//   const { url, rootKey, replica, close } = await startReplica({ port: 0, maxUpdateInstructions: 1e9 });
//
// Options: port (0 = any free port), host (default 127.0.0.1), stateDir,
// serveDir, canisterNames ({name: id}), syncCalls (false: no v3/v4 call
// endpoints, so agents fall back to v2 + polling), and every limit of DEFAULT_OPTIONS in
// src/replica.mjs (maxUpdateInstructions, maxQueryInstructions,
// maxInstallInstructions, maxInspectInstructions, maxIngressBytes,
// maxReplyBytes, maxQueryReplyBytes, maxWasmMemoryPages, maxStablePages,
// dirtyPageOverhead, log), and icTiming: null (updates run at once) or the IC's
// timing of update calls (see src/ic-timing.mjs): 'mainnet', or an object with
// any of IC_TIMING_PRESETS.mainnet's fields (instructionsPerSlice,
// secondsPerRound, roundsBeforeExecution, roundsAfterExecution,
// syncCallTimeoutSeconds), timeScale (simulated seconds run 1/timeScale
// times as fast as real ones; default 1, real IC seconds) and instructionScale
// (each instruction an update executes counts k times; default 1).

import { bytesToHex } from '@noble/hashes/utils.js';
import { Replica, DEFAULT_OPTIONS } from './src/replica.mjs';
import { ReplicaKeys } from './src/certification.mjs';
import { StateStore } from './src/state-store.mjs';
import { createHttpServer } from './src/http-server.mjs';
import { managementIdlFactory } from './src/management.mjs';
import { IC_TIMING_PRESETS } from './src/ic-timing.mjs';

export { Replica, DEFAULT_OPTIONS, IC_TIMING_PRESETS, managementIdlFactory };

/** icTiming as given (a preset name, or fields over the mainnet preset) → the replica's option. */
export function icTimingOption(icTiming) {
  if (!icTiming) return null;
  const { preset = 'mainnet', ...fields } = typeof icTiming === 'string' ? { preset: icTiming } : icTiming;
  if (!IC_TIMING_PRESETS[preset]) throw new Error(`unknown IC timing '${preset}' (known: ${Object.keys(IC_TIMING_PRESETS).join(', ')})`);
  return { ...IC_TIMING_PRESETS[preset], timeScale: 1, instructionScale: 1, ...fields };
}

export async function startReplica(options = {}) {
  const { port = 0, host = '127.0.0.1', stateDir = null, serveDir = null, canisterNames = {}, syncCalls = true, icTiming = null, ...limits } = options;
  const store = stateDir ? new StateStore(stateDir) : null;
  const keys = new ReplicaKeys(store?.loadKeys() ?? {});
  const replica = new Replica({ ...limits, icTiming: icTimingOption(icTiming) }, { keys, store });
  if (store) {
    replica.restore();
    replica.persistReplica();
  }
  if (Object.keys(canisterNames).length) replica.setNames(canisterNames);

  const server = createHttpServer(replica, { serveDir, syncCalls });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  return {
    url,
    port: address.port,
    rootKey: bytesToHex(keys.rootKey),
    replica,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }).then(() => replica.close()),
  };
}
