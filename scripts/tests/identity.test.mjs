import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Principal } from '@icp-sdk/core/principal';
import { identityFromPem, loadDfxIdentity, loadProjectIdentity, resolveIdentity, selectedDfxIdentity } from '../lib/identity.mjs';

/** The self-authenticating principal of a key pair, computed from its SPKI DER independently of the code under test. */
const principalOf = (publicKey) => Principal.selfAuthenticating(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }))).toText();

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'identity-test-'));

function ed25519Pem() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  return { pem: privateKey.export({ type: 'pkcs8', format: 'pem' }), principal: principalOf(publicKey), privateKey, publicKey };
}

function secp256k1Pem() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  return { pem: privateKey.export({ type: 'sec1', format: 'pem' }), principal: principalOf(publicKey) };
}

function writeDfxIdentity(configDir, name, pem) {
  fs.mkdirSync(path.join(configDir, 'identity', name), { recursive: true });
  fs.writeFileSync(path.join(configDir, 'identity', name, 'identity.pem'), pem);
}

test('an Ed25519 PKCS#8 PEM (dfx identity new) gives the key\'s principal', () => {
  const { pem, principal } = ed25519Pem();
  assert.equal(identityFromPem(pem).getPrincipal().toText(), principal);
});

test('the Ed25519 PKCS#8 v2 PEM dfx writes (ring\'s encoding, which OpenSSL refuses) gives the key\'s principal', () => {
  const { privateKey, publicKey, principal } = ed25519Pem();
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d, 'base64url');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
  const der = Buffer.concat([Buffer.from('3053020101300506032b657004220420', 'hex'), seed, Buffer.from('a123032100', 'hex'), raw]);
  const pem = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`;
  assert.equal(identityFromPem(pem).getPrincipal().toText(), principal);
});

test('a secp256k1 SEC1 PEM, with or without the EC PARAMETERS block dfx may write, gives the key\'s principal', () => {
  const { pem, principal } = secp256k1Pem();
  assert.equal(identityFromPem(pem).getPrincipal().toText(), principal);
  const withParameters = `-----BEGIN EC PARAMETERS-----\nBgUrgQQACg==\n-----END EC PARAMETERS-----\n${pem}`;
  assert.equal(identityFromPem(withParameters).getPrincipal().toText(), principal);
});

test('encrypted, foreign and malformed PEMs are refused with a reason', () => {
  assert.throws(() => identityFromPem('-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n'), /encrypted/);
  const p256 = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  assert.throws(() => identityFromPem(p256), /unsupported key type ec prime256v1/);
  assert.throws(() => identityFromPem('hello'), /no private key/);
});

test('dfx identities are read from the config directory; the selected one from identity.json', () => {
  const configDir = tmp();
  const alice = ed25519Pem();
  const bob = secp256k1Pem();
  writeDfxIdentity(configDir, 'alice', alice.pem);
  writeDfxIdentity(configDir, 'bob', bob.pem);
  assert.equal(selectedDfxIdentity(configDir), 'default');
  fs.writeFileSync(path.join(configDir, 'identity.json'), JSON.stringify({ default: 'bob' }));
  assert.equal(selectedDfxIdentity(configDir), 'bob');
  assert.equal(loadDfxIdentity('alice', configDir).getPrincipal().toText(), alice.principal);
  assert.equal(loadDfxIdentity('bob', configDir).getPrincipal().toText(), bob.principal);
  assert.throws(() => loadDfxIdentity('carol', configDir), /dfx identity 'carol' not found/);
});

test('the project identity is created on first use, private to its owner, and the same afterwards', () => {
  const file = path.join(tmp(), 'state', 'identity.json');
  const first = loadProjectIdentity(file);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(loadProjectIdentity(file).getPrincipal().toText(), first.getPrincipal().toText());
});

test('resolveIdentity: a named dfx identity, else the project identity on the project replica, else dfx\'s selected one', () => {
  const configDir = tmp();
  const projectIdentityFile = path.join(tmp(), 'identity.json');
  const project = loadProjectIdentity(projectIdentityFile).getPrincipal().toText();
  const remote = { projectReplica: false };
  assert.equal(resolveIdentity({ network: remote, configDir, projectIdentityFile }).identity.getPrincipal().toText(), project);
  const chosen = ed25519Pem();
  const other = secp256k1Pem();
  writeDfxIdentity(configDir, 'default', chosen.pem);
  writeDfxIdentity(configDir, 'other', other.pem);
  assert.equal(resolveIdentity({ network: remote, configDir, projectIdentityFile }).identity.getPrincipal().toText(), chosen.principal);
  assert.equal(resolveIdentity({ network: { projectReplica: true }, configDir, projectIdentityFile }).identity.getPrincipal().toText(), project);
  assert.equal(resolveIdentity({ name: 'other', network: { projectReplica: true }, configDir, projectIdentityFile }).identity.getPrincipal().toText(), other.principal);
});
