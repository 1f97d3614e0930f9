// The replica: canisters, ingress/query processing with the IC's rejects and
// limits, request statuses for read_state, the per-message instruction log and
// persistence hooks. Independent of HTTP (see http-server.mjs).

import { Principal } from '@icp-sdk/core/principal';
import { bytesToHex } from '@noble/hashes/utils.js';
import { Canister, CanisterError, compileCode } from './canister.mjs';
import { callManagement, settingsFromJson } from './management.mjs';
import { createSystemCanisters } from './system-canisters.mjs';
import { Kind } from './ic0-imports.mjs';
import { IcTiming } from './ic-timing.mjs';
import { UpdateExecutor } from './update-executor.mjs';
import { LIMITS } from './module-limits.mjs';

const B = 1_000_000_000;
const MiB = 1024 * 1024;

export const DEFAULT_OPTIONS = {
  maxUpdateInstructions: 40 * B, // MAX_INSTRUCTIONS_PER_MESSAGE
  maxQueryInstructions: 5 * B, // MAX_INSTRUCTIONS_PER_MESSAGE_WITHOUT_DTS
  maxInstallInstructions: 300 * B, // MAX_INSTRUCTIONS_PER_INSTALL_CODE
  maxInspectInstructions: 200_000_000, // MAX_INSTRUCTIONS_FOR_MESSAGE_ACCEPTANCE_CALLS
  maxIngressBytes: 2 * MiB, // MAX_INGRESS_BYTES_PER_MESSAGE_APP_SUBNET
  maxReplyBytes: 2 * MiB, // MAX_INTER_CANISTER_PAYLOAD_IN_BYTES
  maxQueryReplyBytes: 3 * MiB, // MAX_NON_REPLICATED_QUERY_REPLY_SIZE
  maxWasmMemoryPages: LIMITS.memoryPages, // 4 GiB: the wasm32 limit
  maxStablePages: 500 * 1024 * 16, // 500 GiB in 64 KiB pages
  dirtyPageOverhead: 1000, // instructions per newly dirtied 4 KiB stable page
  messageLogSize: 10_000,
  log: (line) => process.stderr.write(`${line}\n`),
  // null: updates run at once, in the caller's turn; else the fields of IC_TIMING_PRESETS.mainnet and timeScale
  // (see ic-timing.mjs): updates run in worker threads and reply as the IC would
  icTiming: null,
};

// The first canister id of a local PocketIC/replica subnet range (lqy7q-dh777-77777-aaaaq-cai).
const FIRST_CANISTER_INDEX = 0xffff_ffff_ffe0_0001n;

export function canisterIdFromIndex(index) {
  const bytes = new Uint8Array(10);
  new DataView(bytes.buffer).setBigUint64(0, index);
  bytes[8] = 0x01;
  bytes[9] = 0x01;
  return bytes;
}

const toBytes = (p) => (p instanceof Uint8Array ? p : Principal.from(p).toUint8Array());
const textOf = (bytes) => Principal.fromUint8Array(bytes).toText();

export class Replica {
  /**
   * @param {object} options  see DEFAULT_OPTIONS
   * @param {{ keys: import('./certification.mjs').ReplicaKeys, store?: import('./state-store.mjs').StateStore }} deps
   */
  constructor(options, { keys, store = null }) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
    this.keys = keys;
    this.store = store;
    this.canisters = new Map(); // principal text -> Canister
    this.requests = new Map(); // request id hex -> status record
    this.messages = []; // instruction log, newest last
    // with IC timing: {canister, method, caller, receivedAt, certifiedAt, status, rounds: [first, last] executed}, in
    // certification order
    this.timedCalls = [];
    this.names = new Map(); // canister name -> id text (for the ic_env cookie)
    this.nextCanisterIndex = FIRST_CANISTER_INDEX;
    this.lastTime = 0n;
    this.timing = null;
    this.executors = new Map(); // canister id text -> UpdateExecutor (with timing only)
    this.setIcTiming(this.options.icTiming);
    this.systemCanisters = createSystemCanisters(this); // the cycles ledger and the cycles minting canister
    this.env = {
      options: this.options,
      rootKey: keys.rootKey,
      subnetId: keys.subnetId.toUint8Array(),
      now: () => this.now(),
      log: (canister, text) => this.options.log(`[canister ${canister}] ${text}`),
    };
  }

  /**
   * Switches IC timing on (the `icTiming` option's form) or off (null), e.g. after a set-up that should not take
   * simulated time. Only while no update is in flight.
   */
  setIcTiming(icTiming) {
    this.timing?.close();
    this.timing = icTiming ? new IcTiming(icTiming) : null;
    // their copies miss what ran here meanwhile
    for (const executor of this.executors.values()) executor.terminate();
    this.executors.clear();
  }

  /** Strictly increasing time in nanoseconds since the epoch. */
  now() {
    const t = BigInt(Date.now()) * 1_000_000n;
    this.lastTime = t > this.lastTime ? t : this.lastTime + 1n;
    return this.lastTime;
  }

  // -------------------------------------------------------------------------
  // Canisters

  getCanister(id) {
    const text = typeof id === 'string' ? id : textOf(toBytes(id));
    const canister = this.canisters.get(text);
    if (!canister) throw new CanisterError('IC0301', 3, `Canister ${text} not found`);
    return canister;
  }

  createCanister({ specifiedId, controllers }) {
    let id;
    if (specifiedId) {
      id = toBytes(specifiedId);
      if (this.canisters.has(textOf(id))) throw new CanisterError('IC0538', 5, `Canister ${textOf(id)} is already installed.`);
    } else {
      do id = canisterIdFromIndex(this.nextCanisterIndex++);
      while (this.canisters.has(textOf(id)));
    }
    const canister = new Canister({ id, controllers: controllers.map(toBytes), env: this.env });
    this.canisters.set(canister.idText, canister);
    this.persistReplica();
    this.persistCanister(canister);
    return canister;
  }

  deleteCanister(canister) {
    this.executors.get(canister.idText)?.terminate();
    this.executors.delete(canister.idText);
    this.canisters.delete(canister.idText);
    this.store?.deleteCanister(canister.idText);
  }

  /** install / reinstall / upgrade (`code` from compileCode). Throws CanisterError on failure. */
  installCode(canister, { mode, code, arg, caller, skipPreUpgrade = false }) {
    if (mode === 'install' && canister.code) {
      throw new CanisterError('IC0538', 5, `Canister ${canister.idText} cannot be installed because the canister is not empty. Try installing with mode='reinstall' instead.`);
    }
    if (mode === 'upgrade' && !canister.code) {
      throw new CanisterError('IC0537', 5, `Error from Canister ${canister.idText}: Attempted to execute a message, but the canister contains no Wasm module.`);
    }
    const started = performance.now();
    const { trap, instructions } = canister.install({
      mode, code, arg, caller, skipPreUpgrade, limit: this.options.maxInstallInstructions,
    });
    this.logMessage({ canister: canister.idText, method: mode, kind: 'install', instructions, outcome: trap ? 'trap' : 'ok', started, error: trap?.message });
    if (trap) throw new CanisterError(trap.errorCode, 5, `Error from Canister ${canister.idText}: ${trap.message}`);
    canister.chunks.clear();
    this.persistCanister(canister, { module: true });
  }

  // -------------------------------------------------------------------------
  // Messages

  logMessage({ canister, method, kind, instructions, outcome, started, error }) {
    const entry = { canister, method, kind, instructions, outcome, ms: Math.round((performance.now() - started) * 1000) / 1000 };
    if (error) entry.error = error;
    this.messages.push(entry);
    if (this.messages.length > this.options.messageLogSize) this.messages.shift();
  }

  /**
   * Checks an ingress update before it is accepted (the non-replicated part):
   * canister exists, has a module, is running, has the method, and
   * `canister_inspect_message` accepts it. Returns a reject or null.
   */
  admitIngress({ canisterId, method, arg, caller }) {
    if (canisterId.length === 0 || this.systemCanisters.has(textOf(canisterId))) return null; // they accept all ingress
    let canister;
    try {
      canister = this.getCanister(canisterId);
    } catch (e) {
      return rejectOf(e);
    }
    if (!canister.code) {
      return { rejectCode: 3, errorCode: 'IC0537', rejectMessage: `Error from Canister ${canister.idText}: Attempted to execute a message, but the canister contains no Wasm module.` };
    }
    if (canister.status !== 'running') {
      return { rejectCode: 5, errorCode: 'IC0508', rejectMessage: `Canister ${canister.idText} is stopped and therefore does not have a CallContextManager` };
    }
    if (!canister.hasMethod(`canister_update ${method}`) && !canister.hasMethod(`canister_query ${method}`)) {
      return { rejectCode: 3, errorCode: 'IC0536', rejectMessage: `Error from Canister ${canister.idText}: Canister has no update method '${method}'.` };
    }
    if (!canister.hasMethod('canister_inspect_message')) return null;
    const started = performance.now();
    const result = canister.runMessage(Kind.inspect, 'canister_inspect_message', {
      arg, caller, method, limit: this.options.maxInspectInstructions,
    });
    const outcome = result.trap ? 'trap' : result.accepted ? 'accepted' : 'rejected';
    this.logMessage({ canister: canister.idText, method, kind: 'inspect_message', instructions: result.instructions, outcome, started, error: result.trap?.message });
    if (result.trap) {
      return { rejectCode: 5, errorCode: result.trap.errorCode, rejectMessage: `Error from Canister ${canister.idText}: ${result.trap.message}` };
    }
    if (!result.accepted) {
      return { rejectCode: 4, errorCode: 'IC0406', rejectMessage: `Error from Canister ${canister.idText}: Canister rejected the message` };
    }
    return null;
  }

  /**
   * Executes an admitted update call and records its status under requestId.
   * @returns the status record: { status: 'replied', reply } | { status: 'rejected', rejectCode, rejectMessage, errorCode }
   */
  executeUpdate({ canisterId, method, arg, caller, requestId }) {
    const key = requestId ? bytesToHex(requestId) : null;
    const existing = key && this.requests.get(key);
    if (existing && (existing.status === 'replied' || existing.status === 'rejected')) return existing; // duplicate submission
    if (key) this.requests.set(key, { status: 'processing' });
    let record;
    try {
      if (canisterId.length === 0) record = this.runManagement({ method, arg, caller });
      else if (this.systemCanisters.has(textOf(canisterId))) record = this.runSystemCanister({ canisterId, method, arg, caller, kind: Kind.update });
      else record = this.runCanisterMethod({ canisterId, method, arg, caller, kind: Kind.update });
    } catch (e) {
      // a bug of the replica's, not the caller's: answer the call and keep serving
      this.options.log(`local-replica: internal error in ${method}: ${e.stack}`);
      record = { status: 'rejected', rejectCode: 5, errorCode: 'IC0504', rejectMessage: `local-replica internal error: ${e.message}` };
    }
    return this.publish(key, record);
  }

  /**
   * Makes a status record visible to read_state; `certifiedAt`: simulated seconds, with IC timing (which also
   * sets `receivedAt`).
   */
  publish(key, record, certifiedAt) {
    record.time = this.now();
    if (certifiedAt !== undefined) record.certifiedAt = certifiedAt;
    if (key) this.requests.set(key, record);
    return record;
  }

  runManagement({ method, arg, caller }) {
    const started = performance.now();
    let record;
    try {
      record = { status: 'replied', reply: callManagement(this, method, arg, caller).reply };
    } catch (e) {
      record = { status: 'rejected', ...rejectOf(e) };
    }
    this.logMessage({ canister: 'aaaaa-aa', method, kind: 'management', instructions: 0, outcome: record.status === 'replied' ? 'reply' : 'reject', started, error: record.rejectMessage });
    return record;
  }

  /**
   * With IC timing: queues an admitted update call on its canister and resolves to its status record when the
   * reply is certified in simulated time (the record is visible to read_state from then on). Never rejects.
   */
  submitUpdate({ canisterId, method, arg, caller, requestId }) {
    const key = bytesToHex(requestId);
    const existing = this.requests.get(key);
    if (existing?.pending) return existing.pending;
    if (existing && (existing.status === 'replied' || existing.status === 'rejected')) return Promise.resolve(existing);
    const status = { status: 'received' };
    this.requests.set(key, status);
    const queueKey = canisterId.length === 0 ? 'aaaaa-aa' : textOf(canisterId);
    const receivedAt = this.timing.seconds();
    const certified = (record, at, rounds) => {
      record.receivedAt = receivedAt;
      this.timedCalls.push({ canister: queueKey, method, caller: textOf(caller), receivedAt, certifiedAt: at, status: record.status, rounds });
      if (this.timedCalls.length > this.options.messageLogSize) this.timedCalls.shift();
      return this.publish(key, record, at);
    };
    status.pending = this.timing.submit(queueKey, async (_startRound, progress) => {
      status.status = 'processing';
      if (canisterId.length === 0 || this.systemCanisters.has(queueKey)) {
        const record = canisterId.length === 0
          ? this.runManagement({ method, arg, caller })
          : this.runSystemCanister({ canisterId, method, arg, caller, kind: Kind.update });
        return { instructions: 0, certify: (at, rounds) => certified(record, at, rounds) };
      }
      return this.executeInWorker({ canisterId, method, arg, caller }, progress, certified);
    }, receivedAt).catch((e) => {
      // the worker failed (or the canister was deleted under it): a reject, not a stuck request
      this.options.log(`local-replica: ${method} on ${queueKey} failed: ${e.message}`);
      return this.publish(key, { status: 'rejected', rejectCode: 5, errorCode: 'IC0504', rejectMessage: `Error from Canister ${queueKey}: local-replica could not execute the message: ${e.message}` });
    });
    return status.pending;
  }

  /** Runs an update on the canister's worker; `certify` applies its changes to the canister here and publishes. */
  async executeInWorker({ canisterId, method, arg, caller }, onProgress, publish) {
    const target = this.resolveMethod(canisterId, method, Kind.update);
    if (target.reject) return { instructions: 0, certify: (at, rounds) => publish(target.reject, at, rounds) };
    const { canister, exportName, runAs } = target;
    let executor = this.executors.get(canister.idText);
    if (!executor) {
      executor = new UpdateExecutor(canister, { ...this.env, log: this.options.log });
      this.executors.set(canister.idText, executor);
    }
    const started = performance.now();
    const params = {
      arg, caller, method, limit: this.options.maxUpdateInstructions, replicated: true, maxReplyBytes: this.options.maxReplyBytes,
      instructionScale: this.timing.instructionScale,
    };
    const result = await executor.run(runAs, exportName, params, { time: this.now(), sliceInstructions: this.timing.instructionsPerSlice, onProgress });
    const record = this.recordOf(canister, method, Kind.update, result, started);
    return {
      instructions: result.instructions,
      certify: (at, rounds) => {
        if (result.epoch !== canister.stateEpoch || this.canisters.get(canister.idText) !== canister) {
          return publish({ status: 'rejected', rejectCode: 5, errorCode: 'IC0504', rejectMessage: `Error from Canister ${canister.idText}: the canister was installed again or deleted while this message executed` }, at, rounds);
        }
        if (result.delta) {
          canister.applyDelta(result.delta);
          this.persistCanister(canister, { stable: true });
        }
        return publish(record, at, rounds);
      },
    };
  }

  /** Executes a query call (changes are discarded). Returns a status record. */
  executeQuery({ canisterId, method, arg, caller }) {
    if (canisterId.length === 0) {
      return { status: 'rejected', rejectCode: 3, errorCode: 'IC0536', rejectMessage: `Management canister has no query method '${method}'` };
    }
    if (this.systemCanisters.has(textOf(canisterId))) return this.runSystemCanister({ canisterId, method, arg, caller, kind: Kind.query });
    return this.runCanisterMethod({ canisterId, method, arg, caller, kind: Kind.query });
  }

  runSystemCanister({ canisterId, method, arg, caller, kind }) {
    const id = textOf(canisterId);
    const started = performance.now();
    let record;
    try {
      record = { status: 'replied', reply: this.systemCanisters.call(id, method, arg, caller, { asQuery: kind === Kind.query }) };
    } catch (e) {
      record = { status: 'rejected', ...rejectOf(e) };
    }
    this.logMessage({ canister: id, method, kind: 'system', instructions: 0, outcome: record.status === 'replied' ? 'reply' : 'reject', started, error: record.rejectMessage });
    return record;
  }

  /** The canister and export that a call runs, or { reject: record }. */
  resolveMethod(canisterId, method, kind) {
    let canister;
    try {
      canister = this.getCanister(canisterId);
    } catch (e) {
      return { reject: { status: 'rejected', ...rejectOf(e) } };
    }
    const id = canister.idText;
    if (!canister.code) {
      return { reject: { status: 'rejected', rejectCode: 3, errorCode: 'IC0537', rejectMessage: `Error from Canister ${id}: Attempted to execute a message, but the canister contains no Wasm module.` } };
    }
    if (canister.status !== 'running') {
      return { reject: { status: 'rejected', rejectCode: 5, errorCode: 'IC0508', rejectMessage: `Canister ${id} is stopped and therefore does not have a CallContextManager` } };
    }
    const exportName = [
      ...(kind === Kind.update ? [`canister_update ${method}`] : []),
      `canister_query ${method}`,
      ...(kind === Kind.query ? [`canister_composite_query ${method}`] : []),
    ].find((name) => canister.hasMethod(name));
    if (!exportName) {
      const what = kind === Kind.update ? 'update' : 'query';
      return { reject: { status: 'rejected', rejectCode: 3, errorCode: 'IC0536', rejectMessage: `Error from Canister ${id}: Canister has no ${what} method '${method}'.` } };
    }
    // A query method called as an update runs replicated, but still discards its changes.
    const runAs = exportName.startsWith('canister_update ') ? Kind.update : Kind.query;
    return { canister, exportName, runAs };
  }

  runCanisterMethod({ canisterId, method, arg, caller, kind }) {
    const target = this.resolveMethod(canisterId, method, kind);
    if (target.reject) return target.reject;
    const { canister, exportName, runAs } = target;
    const isQuery = kind === Kind.query;
    const limit = isQuery ? this.options.maxQueryInstructions : this.options.maxUpdateInstructions;
    const started = performance.now();
    const result = canister.runMessage(runAs, exportName, {
      arg, caller, method, limit, replicated: !isQuery, maxReplyBytes: isQuery ? this.options.maxQueryReplyBytes : this.options.maxReplyBytes,
    }, { deferRollback: isQuery });
    // a query's reply goes out before its rollback (a pass over the whole heap) is done
    if (isQuery) setImmediate(() => canister.settle());
    const record = this.recordOf(canister, method, kind, result, started);
    if (runAs === Kind.update && !result.trap) this.persistCanister(canister, { stable: true });
    return record;
  }

  /** The status record of an executed message (from Canister.runMessage's result), logged. */
  recordOf(canister, method, kind, result, started) {
    const id = canister.idText;
    let record;
    if (result.trap) {
      record = { status: 'rejected', rejectCode: 5, errorCode: result.trap.errorCode, rejectMessage: `Error from Canister ${id}: ${result.trap.message}` };
    } else if (result.response?.reply) {
      record = { status: 'replied', reply: result.response.reply };
    } else if (result.response) {
      record = { status: 'rejected', rejectCode: 4, errorCode: 'IC0406', rejectMessage: result.response.reject };
    } else {
      record = { status: 'rejected', rejectCode: 5, errorCode: 'IC0506', rejectMessage: `Error from Canister ${id}: Canister did not reply to the call` };
    }
    const outcome = result.trap ? 'trap' : record.status === 'replied' ? 'reply' : result.response ? 'reject' : 'no-reply';
    this.logMessage({ canister: id, method, kind, instructions: result.instructions, outcome, started, error: record.rejectMessage });
    return record;
  }

  close() {
    this.timing?.close();
    return Promise.all([...this.executors.values()].map((executor) => executor.terminate()));
  }

  // -------------------------------------------------------------------------
  // Persistence

  persistReplica() {
    this.store?.saveReplica(this);
  }

  persistCanister(canister, { module = false, stable = module } = {}) {
    if (!this.store || !this.canisters.has(canister.idText)) return;
    if (module) this.store.saveModule(canister);
    if (stable) this.store.flushStable(canister);
    this.store.saveCanisterMeta(canister);
  }

  /** Loads persisted canisters and re-runs start + post_upgrade on each. */
  restore() {
    const saved = this.store.loadReplica();
    if (saved) {
      this.nextCanisterIndex = BigInt(saved.nextCanisterIndex);
      this.names = new Map(Object.entries(saved.names ?? {}));
    }
    for (const { meta, wasm, loadStable } of this.store.loadCanisters()) {
      const canister = new Canister({ id: Principal.fromText(meta.id).toUint8Array(), controllers: meta.controllers.map((c) => Principal.fromText(c).toUint8Array()), env: this.env });
      canister.status = meta.status;
      canister.version = meta.version;
      canister.installArg = Buffer.from(meta.installArg, 'hex');
      canister.certifiedData = Buffer.from(meta.certifiedData, 'hex');
      canister.envVars = new Map(meta.envVars ?? []);
      if (meta.cycles !== undefined) canister.cycles = BigInt(meta.cycles);
      canister.settings = settingsFromJson(meta.settings);
      loadStable(canister.stable);
      this.canisters.set(canister.idText, canister);
      if (!wasm) continue;
      const started = performance.now();
      let code;
      try {
        code = compileCode(wasm, canister.idText);
      } catch (e) {
        this.options.log(`local-replica: the stored module of ${canister.idText} is not valid: ${e.message}`);
        continue;
      }
      const { trap, instructions } = canister.install({
        mode: 'restore', code, arg: canister.installArg, caller: canister.controllers[0] ?? new Uint8Array([4]), limit: this.options.maxInstallInstructions,
      });
      this.logMessage({ canister: canister.idText, method: 'restore', kind: 'install', instructions, outcome: trap ? 'trap' : 'ok', started, error: trap?.message });
      if (trap) this.options.log(`local-replica: re-instantiating ${canister.idText} failed: ${trap.message}`);
      else this.persistCanister(canister, { stable: true });
    }
  }

  setNames(names) {
    for (const [name, id] of Object.entries(names)) this.names.set(name, Principal.fromText(id).toText());
    this.persistReplica();
  }
}

function rejectOf(e) {
  if (e instanceof CanisterError) return { rejectCode: e.rejectCode, errorCode: e.errorCode, rejectMessage: e.message };
  throw e;
}
