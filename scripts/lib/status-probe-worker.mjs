// A worker thread that times a `status` query of the model canister as a client in another process (a browser)
// would see it: the bench's own event loop may be busy meanwhile (the replica runs in it). It answers the first
// message with its readiness (after one untimed query: the agent's first one also fetches the subnet's keys) and
// each later one with the milliseconds a query took.

import { parentPort, workerData } from 'node:worker_threads';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { createModelActor } from './model-canister.mjs';
import { createAgent } from './network.mjs';

const { url, canisterId } = workerData;
const model = await createModelActor(await createAgent({ url, mainnet: false }, Ed25519KeyIdentity.generate()), canisterId);
await model.status();
parentPort.postMessage({ ready: true });
parentPort.on('message', async () => {
  const started = performance.now();
  await model.status();
  parentPort.postMessage({ ms: performance.now() - started });
});
