// The identity that signs calls: a dfx identity (PEM, Ed25519 or secp256k1) or the project's own Ed25519
// identity in .state/identity.json, created on first use.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Secp256k1KeyIdentity } from '@icp-sdk/core/identity/secp256k1';
import { readJson, statePaths, writeJson } from './paths.mjs';

const pemBlock = (pem, label) => pem.match(new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`))?.[0];

/**
 * The 32-byte seed of an Ed25519 PKCS#8 key: v1, or the v2 that dfx writes (ring's encoding of the public key,
 * which OpenSSL refuses). Both start with SEQUENCE, version 0|1, AlgorithmIdentifier 1.3.101.112, OCTET STRING(OCTET STRING(32)).
 */
function ed25519Seed(der) {
  const afterLength = der.subarray(2, 16).toString('hex');
  const isEd25519 = der[0] === 0x30 && ['020100', '020101'].some((version) => afterLength === `${version}300506032b657004220420`);
  return isEd25519 && der.length >= 48 ? new Uint8Array(der.subarray(16, 48)) : null;
}

/** An identity from a dfx identity.pem: PKCS#8 Ed25519 ("PRIVATE KEY") or SEC1 secp256k1 ("EC PRIVATE KEY"). */
export function identityFromPem(pem) {
  if (pem.includes('ENCRYPTED PRIVATE KEY')) {
    throw new Error('the identity PEM is encrypted: export a plaintext one (dfx identity export NAME > identity.pem) or use another identity');
  }
  const ecKey = pemBlock(pem, 'EC PRIVATE KEY');
  if (ecKey) return Secp256k1KeyIdentity.fromPem(ecKey); // dfx may put an "EC PARAMETERS" block before it
  const pkcs8 = pemBlock(pem, 'PRIVATE KEY');
  if (!pkcs8) throw new Error('no private key in the PEM (expected "BEGIN PRIVATE KEY" or "BEGIN EC PRIVATE KEY")');
  const der = Buffer.from(pkcs8.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const seed = ed25519Seed(der);
  if (seed) return Ed25519KeyIdentity.fromSecretKey(seed);
  const key = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails.namedCurve === 'secp256k1') {
    return Secp256k1KeyIdentity.fromSecretKey(new Uint8Array(Buffer.from(key.export({ format: 'jwk' }).d, 'base64url')));
  }
  throw new Error(`unsupported key type ${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.namedCurve ?? ''}: dfx identities are Ed25519 or secp256k1`);
}

/** dfx keeps its configuration under $DFX_CONFIG_ROOT/.config/dfx, else ~/.config/dfx. */
export function dfxConfigDir(env = process.env) {
  return path.join(env.DFX_CONFIG_ROOT ?? os.homedir(), '.config', 'dfx');
}

/** The identity dfx uses now (`dfx identity use`), else "default". */
export function selectedDfxIdentity(configDir = dfxConfigDir()) {
  return readJson(path.join(configDir, 'identity.json'))?.default ?? 'default';
}

/** The identity in a PEM file (--identity-pem; a dfx or icp-cli export). */
export function loadPemIdentity(file) {
  let pem;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the identity PEM ${file}: ${e.code ?? e.message}`);
  }
  try {
    return identityFromPem(pem);
  } catch (e) {
    throw new Error(`${file}: ${e.message}`);
  }
}

export function loadDfxIdentity(name, configDir = dfxConfigDir()) {
  const file = path.join(configDir, 'identity', name, 'identity.pem');
  if (!fs.existsSync(file)) {
    throw new Error(`dfx identity '${name}' not found (${file}); keys in the system keyring are not supported, export one with dfx identity export`);
  }
  return loadPemIdentity(file);
}

/** The project's own identity (created on first use, readable only by its owner). */
export function loadProjectIdentity(file = statePaths().identity) {
  const saved = readJson(file);
  if (saved) return Ed25519KeyIdentity.fromParsedJson(saved);
  const identity = Ed25519KeyIdentity.generate();
  writeJson(file, identity.toJSON(), { mode: 0o600 });
  return identity;
}

/**
 * The identity for a command: the dfx identity `name` when given; for the project's local replica the project
 * identity; elsewhere the identity dfx has selected, when dfx has one, else the project identity.
 */
export function resolveIdentity({ name, network, configDir = dfxConfigDir(), projectIdentityFile = statePaths().identity }) {
  if (name) return { identity: loadDfxIdentity(name, configDir), source: `dfx identity '${name}'` };
  if (!network.projectReplica) {
    const selected = selectedDfxIdentity(configDir);
    if (fs.existsSync(path.join(configDir, 'identity', selected, 'identity.pem'))) {
      return { identity: loadDfxIdentity(selected, configDir), source: `dfx identity '${selected}'` };
    }
  }
  return { identity: loadProjectIdentity(projectIdentityFile), source: `project identity (${path.relative(process.cwd(), projectIdentityFile) || projectIdentityFile})` };
}
