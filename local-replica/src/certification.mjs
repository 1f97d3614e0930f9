// Keys, certified state trees and request authentication of the IC HTTP
// interface: a BLS12-381 (min-sig) root key signing certificates without
// delegation, an ed25519 node key signing query responses, and verification of
// ed25519 / secp256k1 / P-256 signed requests.

import { bls12_381 } from '@noble/curves/bls12-381.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, concatBytes, utf8ToBytes, randomBytes } from '@noble/hashes/utils.js';
import { encodeWithSelfDescribedTag } from '@dfinity/cbor';
import { Principal } from '@icp-sdk/core/principal';
import { hashOfMap } from '@icp-sdk/core/agent';

const bls = bls12_381.shortSignatures;
const BLS_DER_PREFIX = hexToBytes('308182301d060d2b0601040182dc7c0503010201060c2b0601040182dc7c05030201036100');
const ED25519_DER_PREFIX = hexToBytes('302a300506032b6570032100');
const SECP256K1_DER_PREFIX = hexToBytes('3056301006072a8648ce3d020106052b8104000a034200');
const P256_DER_PREFIX = hexToBytes('3059301306072a8648ce3d020106082a8648ce3d030107034200');
const REQUEST_DOMAIN = concatBytes(new Uint8Array([10]), utf8ToBytes('ic-request'));
const RESPONSE_DOMAIN = concatBytes(new Uint8Array([11]), utf8ToBytes('ic-response'));
const ANONYMOUS = new Uint8Array([4]);

/** The replica's key material; serialisable as two hex secrets. */
export class ReplicaKeys {
  constructor({ rootSecretHex, nodeSecretHex } = {}) {
    this.rootSecret = rootSecretHex ? hexToBytes(rootSecretHex) : bls12_381.utils.randomSecretKey();
    this.nodeSecret = nodeSecretHex ? hexToBytes(nodeSecretHex) : randomBytes(32);
    this.rootKey = concatBytes(BLS_DER_PREFIX, bls.getPublicKey(this.rootSecret).toBytes());
    this.nodePublicKey = concatBytes(ED25519_DER_PREFIX, ed25519.getPublicKey(this.nodeSecret));
    this.subnetId = Principal.selfAuthenticating(this.rootKey);
    this.nodeId = Principal.selfAuthenticating(this.nodePublicKey);
  }

  toJSON() {
    return { rootSecretHex: bytesToHex(this.rootSecret), nodeSecretHex: bytesToHex(this.nodeSecret) };
  }

  /** CBOR certificate `{tree, signature}` for a hash tree (no delegation). */
  certificate(tree) {
    const message = concatBytes(domainSep('ic-state-root'), reconstruct(tree));
    const signature = bls.sign(bls.hash(message), this.rootSecret).toBytes();
    return encodeWithSelfDescribedTag({ tree, signature });
  }

  /** The `signatures` array of a query response (ed25519 node signature). */
  signQueryResponse(fields) {
    const timestamp = BigInt(Date.now()) * 1_000_000n;
    const hash = hashOfMap({ ...fields, timestamp });
    const signature = ed25519.sign(concatBytes(RESPONSE_DOMAIN, hash), this.nodeSecret);
    return [{ timestamp, signature, identity: this.nodeId.toUint8Array() }];
  }
}

// ---------------------------------------------------------------------------
// Hash trees: [0] empty, [1, l, r] fork, [2, label, t] labeled, [3, v] leaf.

const domainSep = (s) => concatBytes(new Uint8Array([s.length]), utf8ToBytes(s));

export function reconstruct(t) {
  switch (t[0]) {
    case 0: return sha256(domainSep('ic-hashtree-empty'));
    case 1: return sha256(concatBytes(domainSep('ic-hashtree-fork'), reconstruct(t[1]), reconstruct(t[2])));
    case 2: return sha256(concatBytes(domainSep('ic-hashtree-labeled'), t[1], reconstruct(t[2])));
    case 3: return sha256(concatBytes(domainSep('ic-hashtree-leaf'), t[1]));
    case 4: return t[1];
    default: throw new Error(`bad hash tree node ${t[0]}`);
  }
}

const toLabel = (l) => (typeof l === 'string' ? utf8ToBytes(l) : l);

function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Builds a hash tree from nested entries: an array of [label, value] where a
 * value is a Uint8Array (leaf) or another array of entries (subtree).
 */
export function buildTree(entries) {
  const nodes = entries
    .map(([label, value]) => [toLabel(label), value])
    .sort((a, b) => compareBytes(a[0], b[0]))
    .map(([label, value]) => [2, label, value instanceof Uint8Array ? [3, value] : buildTree(value)]);
  const balance = (list) => {
    if (list.length === 0) return [0];
    if (list.length === 1) return list[0];
    const mid = Math.ceil(list.length / 2);
    return [1, balance(list.slice(0, mid)), balance(list.slice(mid))];
  };
  return balance(nodes);
}

// ---------------------------------------------------------------------------
// Request authentication.

function startsWith(bytes, prefix) {
  return bytes.length > prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/**
 * Checks the sender of an envelope. Returns an error message, or null if valid.
 * @param {object} envelope  decoded CBOR `{content, sender_pubkey?, sender_sig?, sender_delegation?}`
 * @param {Uint8Array} requestId
 */
export function authenticate(envelope, requestId) {
  const sender = envelope.content.sender;
  if (!(sender instanceof Uint8Array)) return 'Request has no valid sender';
  const { sender_pubkey: pubkey, sender_sig: sig, sender_delegation: delegation } = envelope;
  if (compareBytes(sender, ANONYMOUS) === 0) {
    if (pubkey || sig || delegation) return 'Anonymous requests must not carry a public key, signature or delegation';
    return null;
  }
  if (delegation) return 'Request uses sender_delegation, which local-replica does not support';
  if (!(pubkey instanceof Uint8Array) || !(sig instanceof Uint8Array)) {
    return `Request from ${Principal.fromUint8Array(sender).toText()} is not signed (missing sender_pubkey or sender_sig)`;
  }
  if (compareBytes(Principal.selfAuthenticating(pubkey).toUint8Array(), sender) !== 0) {
    return `The sender ${Principal.fromUint8Array(sender).toText()} does not match the public key ${bytesToHex(pubkey)}`;
  }
  const message = concatBytes(REQUEST_DOMAIN, requestId);
  let valid;
  try {
    if (startsWith(pubkey, ED25519_DER_PREFIX)) {
      valid = ed25519.verify(sig, message, pubkey.subarray(ED25519_DER_PREFIX.length));
    } else if (startsWith(pubkey, SECP256K1_DER_PREFIX)) {
      valid = secp256k1.verify(sig, sha256(message), pubkey.subarray(SECP256K1_DER_PREFIX.length), { prehash: false, lowS: false });
    } else if (startsWith(pubkey, P256_DER_PREFIX)) {
      valid = p256.verify(sig, sha256(message), pubkey.subarray(P256_DER_PREFIX.length), { prehash: false, lowS: false });
    } else {
      return `Unsupported public key type ${bytesToHex(pubkey.subarray(0, 24))}… (local-replica verifies ed25519, secp256k1 and P-256 keys)`;
    }
  } catch {
    valid = false;
  }
  return valid ? null : `Invalid signature: the signature of request ${bytesToHex(requestId)} does not verify against the sender's public key`;
}
