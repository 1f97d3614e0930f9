// Runs a canister's update messages in a worker thread (update-worker.mjs)
// that holds its own copy of the canister. The canister on the main thread
// stays at the last committed state the replica has applied, so queries and
// inspect_message run there at once, even while a long update executes.
// The copy is (re)made from a snapshot whenever the canister was installed,
// upgraded or reinstalled since (Canister.stateEpoch).

import { Worker } from 'node:worker_threads';

export class UpdateExecutor {
  /**
   * @param {import('./canister.mjs').Canister} canister  the main thread's canister
   * @param {object} env  { options, rootKey, subnetId, log(text) }
   */
  constructor(canister, { options, rootKey, subnetId, log }) {
    this.canister = canister;
    this.log = log;
    this.syncedEpoch = -1;
    const cloneable = Object.fromEntries(Object.entries(options).filter(([, v]) => typeof v !== 'function'));
    this.worker = new Worker(new URL('./update-worker.mjs', import.meta.url), {
      workerData: { id: canister.id, options: cloneable, rootKey, subnetId },
    });
    this.worker.unref();
    this.pending = null;
    this.worker.on('message', (message) => {
      if (message.type === 'log') return this.log(message.text);
      if (message.type === 'progress') return this.pending?.onProgress?.(message.slices);
      const { resolve, reject } = this.pending;
      this.pending = null;
      if (message.type === 'error') reject(new Error(`update worker of ${canister.idText}: ${message.message}`));
      else resolve(message);
      return undefined;
    });
    this.worker.on('error', (e) => {
      this.pending?.reject(e);
      this.pending = null;
    });
    this.worker.on('exit', () => {
      this.pending?.reject(new Error(`the update worker of ${canister.idText} stopped`));
      this.pending = null;
    });
  }

  request(message, onProgress = null) {
    if (this.pending) throw new Error('UpdateExecutor: one request at a time');
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, onProgress };
      this.worker.postMessage(message);
    });
  }

  /**
   * Executes one update on the copy, in slices of `sliceInstructions` (onProgress(slices) each time it has used
   * up one more); `time` is the message's ic0.time. Resolves to the result of Canister.runMessage (with `delta`
   * for a committed update) and the canister's stateEpoch it ran on.
   */
  async run(kind, exportName, params, { time, sliceInstructions, onProgress }) {
    const { canister } = this;
    const epoch = canister.stateEpoch;
    if (this.syncedEpoch !== epoch) {
      await this.request({ type: 'sync', snapshot: canister.snapshot() });
      this.syncedEpoch = epoch;
    }
    const state = { controllers: canister.controllers, status: canister.status, envVars: canister.envVars };
    const { result } = await this.request({ type: 'run', kind, exportName, params, time, state, sliceInstructions }, onProgress);
    return { ...result, epoch };
  }

  terminate() {
    return this.worker.terminate();
  }
}
