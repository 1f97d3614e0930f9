// A local replica started in-process with a tiny random model on disk, for the tests that deploy model.wasm.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { importLocalReplica } from '../lib/local-replica.mjs';
import { createAgent } from '../lib/network.mjs';
import { ensureRandomModel } from '../lib/random-model.mjs';

export const TINY_SHAPE = { layers: 2, heads: 2, embd: 64, positions: 128, vocab: 50260 };

/**
 * Generates the tiny model into a fresh directory and starts a replica that test `t` closes at its end.
 * Returns { work, modelDir, local, agent } (agent: a fresh identity's, trusting the replica's root key).
 */
export async function replicaWithTinyModel(t, prefix) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const modelDir = path.join(work, 'model');
  await ensureRandomModel(modelDir, TINY_SHAPE);
  const { startReplica } = await importLocalReplica();
  const local = await startReplica({ port: 0, log: () => {} });
  t.after(() => local.close());
  const agent = await createAgent({ url: local.url, mainnet: false }, Ed25519KeyIdentity.generate());
  return { work, modelDir, local, agent };
}
