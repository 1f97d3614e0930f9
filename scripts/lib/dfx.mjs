// The original canister's upload path: ic-file-uploader for the bytes and `dfx canister call` for the rest,
// exactly as its README runs them, resumed from what already landed.

import { run } from './process.mjs';

/** ic-file-uploader flags that skip the `landed` bytes already on the canister (`--offset` exists in every version). */
export function uploaderResumeArgs(landed) {
  return landed === 0 ? [] : ['--offset', String(landed)];
}

/** The Err text in dfx's Candid output of a `variant { Ok; Err : text }`, or null. */
export function dfxErrOf(output) {
  const match = output.match(/variant\s*\{\s*Err\s*=\s*"((?:[^"\\]|\\.)*)"/);
  return match ? match[1].replace(/\\(.)/g, '$1') : null;
}

/** `canister` is the dfx canister name (or id); network.name is passed as dfx's --network unless it is local. */
export function dfxUploader(canister, network) {
  const networkArgs = network.name === 'local' ? [] : ['--network', network.name];
  const dfxCall = async (method) => {
    const output = await run('dfx', ['canister', 'call', ...networkArgs, canister, method], { capture: true });
    const err = dfxErrOf(output);
    if (err !== null) throw new Error(`${method}: ${err}`);
    return output;
  };
  return {
    name: 'dfx + ic-file-uploader',
    call: dfxCall,
    clear: (file) => dfxCall(file.clear),
    async upload(file, path, from) {
      await run('ic-file-uploader', [canister, file.append, path, ...uploaderResumeArgs(from), ...networkArgs]);
    },
  };
}
