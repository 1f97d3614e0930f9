// What upload-model reads from icp-cli: canister ids from a project's .icp/ state, identities from
// `icp identity export` (the real icp binary, npm @icp-sdk/icp-cli-linux-x64) and PEM files.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Principal } from '@icp-sdk/core/principal';
import { resolveCanisterId } from '../lib/canister-ids.mjs';
import { icpCommand, loadIcpIdentity } from '../lib/icp-cli.mjs';
import { loadPemIdentity } from '../lib/identity.mjs';
import { resolveNetwork } from '../lib/network.mjs';
import { writeJson } from '../lib/paths.mjs';

const MODEL = 'lqy7q-dh777-77777-aaaaq-cai';
const OTHER = 'ryjl3-tyaaa-aaaaa-aaaba-cai';
const THIRD = 'rrkah-fqaaa-aaaaa-aaaaq-cai';

function project() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'icp-ids-test-'));
  return { root, stateDir: path.join(root, '.state'), env: { PATH: '' } };
}

test('icp-cli\'s mappings give the ids: .icp/data for mainnet (ic), .icp/cache for its local network', () => {
  const { root, stateDir, env } = project();
  writeJson(path.join(root, '.icp', 'data', 'mappings', 'ic.ids.json'), { model: MODEL });
  writeJson(path.join(root, '.icp', 'cache', 'mappings', 'local.ids.json'), { model: OTHER });
  const ic = resolveNetwork('ic', { env: {}, stateDir });
  assert.deepEqual(resolveCanisterId('model', ic, { root, stateDir, env }), { canisterId: MODEL, source: '.icp/data/mappings/ic.ids.json' });
  const local = resolveNetwork('http://127.0.0.1:8000', { env: {}, stateDir });
  assert.deepEqual(resolveCanisterId('model', local, { root, stateDir, env }), { canisterId: OTHER, source: '.icp/cache/mappings/local.ids.json' });
  assert.throws(() => resolveCanisterId('frontend', local, { root, stateDir, env }), /no canister 'frontend' known/);
});

test('dfx\'s files come first unless --environment names an icp-cli environment, which is then the only source', () => {
  const { root, stateDir, env } = project();
  writeJson(path.join(root, 'canister_ids.json'), { model: { ic: THIRD } });
  writeJson(path.join(root, '.icp', 'data', 'mappings', 'ic.ids.json'), { model: MODEL });
  writeJson(path.join(root, '.icp', 'data', 'mappings', 'staging.ids.json'), { model: OTHER, broken: 'not a principal' });
  const ic = resolveNetwork('ic', { env: {}, stateDir });
  assert.equal(resolveCanisterId('model', ic, { root, stateDir, env }).canisterId, THIRD);
  assert.equal(resolveCanisterId('model', ic, { root, stateDir, env, icpEnvironment: 'ic' }).canisterId, MODEL);
  assert.equal(resolveCanisterId('model', ic, { root, stateDir, env, icpEnvironment: 'staging' }).canisterId, OTHER);
  assert.throws(() => resolveCanisterId('broken', ic, { root, stateDir, env, icpEnvironment: 'staging' }), /no canister 'broken' in icp-cli's environment staging/);
  assert.throws(() => resolveCanisterId('model', ic, { root, stateDir, env, icpEnvironment: '../ic' }), /invalid icp-cli environment name/);
});

test('$ICP_PROJECT_ROOT locates icp-cli\'s project, as it does for icp itself', () => {
  const { root, stateDir } = project();
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'icp-project-'));
  writeJson(path.join(elsewhere, '.icp', 'data', 'mappings', 'local.ids.json'), { model: MODEL });
  const local = resolveNetwork('http://127.0.0.1:8000', { env: {}, stateDir });
  const env = { PATH: '', ICP_PROJECT_ROOT: elsewhere };
  assert.equal(resolveCanisterId('model', local, { root, stateDir, env, icpEnvironment: 'local' }).canisterId, MODEL);
  assert.throws(() => resolveCanisterId('model', local, { root, stateDir, env: { PATH: '' }, icpEnvironment: 'local' }), /no canister 'model'/);
});

test('--identity-pem reads a PEM file; an unreadable or foreign file is refused with its name', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pem-test-'));
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  const file = path.join(dir, 'identity.pem');
  fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const expected = Principal.selfAuthenticating(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }))).toText();
  assert.equal(loadPemIdentity(file).getPrincipal().toText(), expected);
  assert.throws(() => loadPemIdentity(path.join(dir, 'missing.pem')), /cannot read the identity PEM .*missing\.pem: ENOENT/);
  fs.writeFileSync(path.join(dir, 'text.pem'), 'hello');
  assert.throws(() => loadPemIdentity(path.join(dir, 'text.pem')), /text\.pem: no private key/);
});

const icp = icpCommand({ PATH: '' });
test('--icp-identity NAME signs as icp-cli\'s identity of that name (icp identity export)', { skip: !fs.existsSync(icp) && 'npm ci installs icp-cli' }, () => {
  const env = { ...process.env, ICP_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'icp-home-')), DO_NOT_TRACK: '1' };
  const runIcp = (...args) => {
    const result = spawnSync(icp, args, { env, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.trim();
  };
  runIcp('identity', 'new', 'created', '--storage', 'plaintext', '--quiet'); // secp256k1, icp-cli's default
  const pem = path.join(env.ICP_HOME, 'ed25519.pem');
  fs.writeFileSync(pem, crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
  runIcp('identity', 'import', 'imported', '--from-pem', pem, '--storage', 'plaintext');
  for (const name of ['created', 'imported']) {
    assert.equal(loadIcpIdentity(name, { icp, env }).getPrincipal().toText(), runIcp('identity', 'principal', '--identity', name), name);
  }
  assert.throws(() => loadIcpIdentity('nobody', { icp, env }), /icp identity export nobody failed/);
});
