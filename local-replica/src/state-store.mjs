// Persistence of replica state in a directory, written on every committed
// change:
//   replica.json                 keys, next canister id, canister names
//   canisters/<id>/meta.json     controllers, status, version, install arg, ...
//   canisters/<id>/module.wasm   the installed module (as installed, gunzipped)
//   canisters/<id>/stable.bin    stable memory; only dirty 4 KiB pages are rewritten
// The Wasm heap is not persisted: on restart each canister is re-instantiated
// and its `canister_post_upgrade` runs with the last install argument.

import fs from 'node:fs';
import path from 'node:path';
import { bytesToHex } from '@noble/hashes/utils.js';
import { Principal } from '@icp-sdk/core/principal';
import { settingsToJson } from './management.mjs';
import { OS_PAGE } from './stable-memory.mjs';

function writeJsonAtomic(file, value) {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

export class StateStore {
  constructor(dir) {
    this.dir = path.resolve(dir);
    fs.mkdirSync(path.join(this.dir, 'canisters'), { recursive: true });
  }

  canisterDir(idText) {
    const dir = path.join(this.dir, 'canisters', idText);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  loadKeys() {
    const file = path.join(this.dir, 'replica.json');
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')).keys : null;
  }

  loadReplica() {
    const file = path.join(this.dir, 'replica.json');
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
  }

  saveReplica(replica) {
    writeJsonAtomic(path.join(this.dir, 'replica.json'), {
      keys: replica.keys.toJSON(),
      nextCanisterIndex: replica.nextCanisterIndex.toString(),
      names: Object.fromEntries(replica.names),
    });
  }

  saveCanisterMeta(canister) {
    writeJsonAtomic(path.join(this.canisterDir(canister.idText), 'meta.json'), {
      id: canister.idText,
      controllers: canister.controllers.map((c) => Principal.fromUint8Array(c).toText()),
      status: canister.status,
      version: canister.version,
      installArg: bytesToHex(canister.installArg),
      certifiedData: bytesToHex(canister.certifiedData),
      stablePages: canister.stable.sizePages,
      envVars: [...canister.envVars],
      cycles: canister.cycles?.toString(),
      settings: canister.settings ? settingsToJson(canister.settings) : undefined,
      hasModule: canister.code !== null,
    });
  }

  saveModule(canister) {
    const file = path.join(this.canisterDir(canister.idText), 'module.wasm');
    fs.writeFileSync(`${file}.tmp`, canister.code.wasm);
    fs.renameSync(`${file}.tmp`, file);
  }

  /** Writes the stable pages dirtied since the last flush (a reinstall rewrites the file). */
  flushStable(canister) {
    const file = path.join(this.canisterDir(canister.idText), 'stable.bin');
    const { stable } = canister;
    const { pages, sizeChanged, fresh } = stable.takeUnflushed();
    if (!pages.length && !sizeChanged && !fresh && fs.existsSync(file)) return;
    const fd = fs.openSync(file, fs.existsSync(file) ? 'r+' : 'w+');
    try {
      if (fresh) fs.ftruncateSync(fd, 0);
      if (fresh || sizeChanged || fs.fstatSync(fd).size !== stable.sizeBytes) fs.ftruncateSync(fd, stable.sizeBytes);
      for (const p of fresh ? stable.allocatedOsPages() : pages) {
        if ((p + 1) * OS_PAGE <= stable.sizeBytes) fs.writeSync(fd, stable.osPageBytes(p), 0, OS_PAGE, p * OS_PAGE);
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  deleteCanister(idText) {
    fs.rmSync(path.join(this.dir, 'canisters', idText), { recursive: true, force: true });
  }

  /** Yields { meta, wasm, loadStable(stableMemory) } for each persisted canister. */
  *loadCanisters() {
    const root = path.join(this.dir, 'canisters');
    for (const idText of fs.readdirSync(root).sort()) {
      const dir = path.join(root, idText);
      const metaFile = path.join(dir, 'meta.json');
      if (!fs.existsSync(metaFile)) continue;
      const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
      const moduleFile = path.join(dir, 'module.wasm');
      const wasm = meta.hasModule && fs.existsSync(moduleFile) ? new Uint8Array(fs.readFileSync(moduleFile)) : null;
      const stableFile = path.join(dir, 'stable.bin');
      const loadStable = (stable) => {
        if (!fs.existsSync(stableFile)) return;
        const fd = fs.openSync(stableFile, 'r');
        try {
          stable.load(meta.stablePages, (buf, position) => {
            buf.fill(0);
            fs.readSync(fd, buf, 0, buf.length, position);
          });
        } finally {
          fs.closeSync(fd);
        }
      };
      yield { meta, wasm, loadStable };
    }
  }
}
