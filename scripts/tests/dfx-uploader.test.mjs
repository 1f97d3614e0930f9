// The dfx path of upload-model against stand-ins for dfx and ic-file-uploader that keep the "canister's" bytes in
// files: the original README's commands, in its order, resumed with the uploader's own flags.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { dfxUploader } from '../lib/dfx.mjs';
import { uploadModel } from '../lib/model-upload.mjs';

const FAKE_DFX = `#!/bin/sh
# dfx canister call [--network N] CANISTER METHOD
echo "dfx $*" >> "$STORE/commands"
shift 2; [ "$1" = "--network" ] && shift 2
case "$2" in clear_*) rm -f "$STORE/append_\${2#clear_}" ;; esac
echo "(variant { Ok })"
`;
const FAKE_UPLOADER = `#!/bin/sh
# ic-file-uploader CANISTER METHOD FILE [--offset N]: appends the file from that byte
echo "ic-file-uploader $*" >> "$STORE/commands"
skip=0
[ "$4" = "--offset" ] && skip=$5
tail -c +$((skip + 1)) "$3" >> "$STORE/$2"
`;

/** A read-only view of the stand-in canister, as the agent actor would give it. */
function storeActor(store) {
  const landed = (key) => {
    const file = path.join(store, `append_${key}_bytes`);
    const bytes = fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0);
    return { bytes: BigInt(bytes.length), sha256: crypto.createHash('sha256').update(bytes).digest() };
  };
  return {
    status: async () => Object.fromEntries(['config', 'tokenizer', 'safetensors'].flatMap((key) => [
      [`${key}_bytes`, landed(key).bytes], [`${key}_sha256`, landed(key).sha256],
    ]).concat([['model_loaded', false], ['tokenizer_loaded', false]])),
  };
}

test('dfx path: the original sequence, resumed from what landed', async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dfx-test-'));
  const [bin, store, dir] = ['bin', 'store', 'model'].map((d) => path.join(work, d));
  for (const d of [bin, store, dir]) fs.mkdirSync(d);
  fs.writeFileSync(path.join(bin, 'dfx'), FAKE_DFX, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, 'ic-file-uploader'), FAKE_UPLOADER, { mode: 0o755 });
  const safetensors = crypto.randomBytes(4_500_000);
  fs.writeFileSync(path.join(dir, 'model.safetensors'), safetensors);
  fs.writeFileSync(path.join(dir, 'config.json'), '{"n_layer": 2}');
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{}');
  fs.writeFileSync(path.join(store, 'append_safetensors_bytes'), safetensors.subarray(0, 2_000_000)); // one chunk landed before
  fs.writeFileSync(path.join(store, 'append_tokenizer_bytes'), '{"x"'); // a prefix of another file
  const saved = { PATH: process.env.PATH, STORE: process.env.STORE };
  Object.assign(process.env, { PATH: `${bin}${path.delimiter}${process.env.PATH}`, STORE: store });
  t.after(() => Object.assign(process.env, saved));

  await uploadModel({ actor: storeActor(store), uploader: dfxUploader('model', { name: 'ic' }), dir, log: () => {} });
  const m = (file) => path.join(dir, file);
  assert.deepEqual(fs.readFileSync(path.join(store, 'commands'), 'utf8').trim().split('\n'), [
    `ic-file-uploader model append_safetensors_bytes ${m('model.safetensors')} --offset 2000000 --network ic`,
    'dfx canister call --network ic model store_safetensors_bytes_to_stable',
    'dfx canister call --network ic model load_safetensors_bytes_from_stable',
    `ic-file-uploader model append_config_bytes ${m('config.json')} --network ic`,
    'dfx canister call --network ic model setup_model',
    'dfx canister call --network ic model clear_tokenizer_bytes',
    `ic-file-uploader model append_tokenizer_bytes ${m('tokenizer.json')} --network ic`,
    'dfx canister call --network ic model store_tokenizer_bytes_to_stable',
    'dfx canister call --network ic model load_tokenizer_bytes_from_stable',
    'dfx canister call --network ic model setup_tokenizer',
  ]);
  assert.ok(fs.readFileSync(path.join(store, 'append_safetensors_bytes')).equals(safetensors));
});
