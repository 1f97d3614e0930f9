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
// dirtyPageOverhead, log).

import { bytesToHex } from '@noble/hashes/utils.js';
import { Replica, DEFAULT_OPTIONS } from './src/replica.mjs';
import { ReplicaKeys } from './src/certification.mjs';
import { StateStore } from './src/state-store.mjs';
import { createHttpServer } from './src/http-server.mjs';
import { managementIdlFactory } from './src/management.mjs';

export { Replica, DEFAULT_OPTIONS, managementIdlFactory };

export async function startReplica(options = {}) {
  const { port = 0, host = '127.0.0.1', stateDir = null, serveDir = null, canisterNames = {}, syncCalls = true, ...limits } = options;
  const store = stateDir ? new StateStore(stateDir) : null;
  const keys = new ReplicaKeys(store?.loadKeys() ?? {});
  const replica = new Replica(limits, { keys, store });
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
    }),
  };
}
