// The project's local replica (local-replica/): its dependencies, a background instance for scripts/dev (pid,
// log and URL under .state/), and its local endpoints.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { npmCiIfNeeded } from './npm.mjs';
import { LOCAL_REPLICA_DIR, readJson, statePaths, writeJson } from './paths.mjs';
import { sleep } from './retry.mjs';

const START_TIMEOUT_MS = 10 * 60_000; // a restart re-runs post_upgrade, which reloads a full model

/** local-replica's programmatic API (startReplica, managementIdlFactory). */
export async function importLocalReplica() {
  npmCiIfNeeded(LOCAL_REPLICA_DIR);
  return import(new URL('../../local-replica/index.mjs', import.meta.url).href);
}

async function isReplicaUp(url) {
  try {
    // generous: a replica answers nothing while it executes a long (up to 40 B instructions) message
    return (await fetch(`${url}/api/v2/status`, { signal: AbortSignal.timeout(30_000) })).ok;
  } catch {
    return false;
  }
}

/** Whether `pid` is a running local replica; where /proc exists, a recycled pid of another program is not. */
function isReplicaProcess(pid) {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (e.code !== 'EPERM') return false;
  }
  const cmdline = `/proc/${pid}/cmdline`;
  return !fs.existsSync('/proc/self') || (fs.existsSync(cmdline) && fs.readFileSync(cmdline, 'utf8').includes(path.join('local-replica', 'cli.mjs')));
}

/** The replica described by .state/replica.json, if its process still runs. */
function runningReplica(paths) {
  const info = readJson(paths.replicaInfo);
  return info?.pid && isReplicaProcess(info.pid) ? info : null;
}

/**
 * Starts local-replica in the background (or reuses the one running with the same port, served folder and IC
 * timing: null, or a preset name of `--ic-timing`). Returns { url, reused }.
 */
export async function startBackgroundReplica({ port, serveDir = null, stateDir, icTiming = null }) {
  const paths = statePaths(stateDir);
  const running = runningReplica(paths);
  if (running && running.port === port && running.serveDir === serveDir && (running.icTiming ?? null) === icTiming
    && await isReplicaUp(running.url)) {
    return { url: running.url, reused: true };
  }
  if (running) await stopBackgroundReplica(stateDir);
  npmCiIfNeeded(LOCAL_REPLICA_DIR);
  fs.mkdirSync(paths.dir, { recursive: true });
  const log = fs.openSync(paths.replicaLog, 'a');
  const logStart = fs.fstatSync(log).size;
  const args = ['start', '--port', String(port), '--state', paths.replicaState, ...(serveDir ? ['--serve', serveDir] : []),
    ...(icTiming ? ['--ic-timing', icTiming] : [])];
  const child = spawn(process.execPath, [path.join(LOCAL_REPLICA_DIR, 'cli.mjs'), ...args], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  fs.closeSync(log);
  fs.writeFileSync(paths.replicaPid, `${child.pid}\n`);
  let exited = null;
  child.on('exit', (code, signal) => { exited = signal ?? `exit ${code}`; });

  // cli.mjs prints one JSON line {"url", "rootKey"} on stdout when it listens.
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const output = fs.readFileSync(paths.replicaLog, 'utf8').slice(logStart);
    const ready = output.split('\n').find((line) => line.startsWith('{"url"'));
    if (ready) {
      const { url } = JSON.parse(ready);
      writeJson(paths.replicaInfo, { url, port, pid: child.pid, serveDir, icTiming, log: paths.replicaLog, startedAt: new Date().toISOString() });
      return { url, reused: false };
    }
    if (exited || Date.now() > deadline) {
      fs.rmSync(paths.replicaPid, { force: true });
      const tail = output.trim().split('\n').slice(-10).join('\n');
      throw new Error(`the local replica ${exited ? `stopped (${exited})` : 'did not start in time'}; ${paths.replicaLog}:\n${tail}`);
    }
    await sleep(200);
  }
}

/** Stops the background replica that startBackgroundReplica started. Returns whether one was running. */
export async function stopBackgroundReplica(stateDir) {
  const paths = statePaths(stateDir);
  const pid = readJson(paths.replicaInfo)?.pid ?? Number(fs.existsSync(paths.replicaPid) && fs.readFileSync(paths.replicaPid, 'utf8'));
  const wasRunning = pid > 0 && isReplicaProcess(pid);
  if (wasRunning) {
    process.kill(pid, 'SIGTERM');
    for (let waited = 0; isReplicaProcess(pid) && waited < 10_000; waited += 100) await sleep(100);
    if (isReplicaProcess(pid)) process.kill(pid, 'SIGKILL');
  }
  fs.rmSync(paths.replicaInfo, { force: true });
  fs.rmSync(paths.replicaPid, { force: true });
  return wasRunning;
}

/** Tells the replica the canister's name, for the ic_env cookie of the pages it serves (PUBLIC_CANISTER_ID:<name>). */
export async function registerCanisterName(url, name, canisterId) {
  const response = await fetch(`${url}/_/names`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ [name]: canisterId }),
  });
  if (!response.ok) throw new Error(`POST ${url}/_/names: ${response.status} ${await response.text()}`);
}
