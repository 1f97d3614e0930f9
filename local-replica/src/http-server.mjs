// The IC HTTP interface (what @icp-sdk/core's HttpAgent speaks), plus local
// debug endpoints under /_/ and optional static file serving.
//
//   GET  /api/v2/status
//   POST /api/v2/canister/<id>/call             async: 202, then poll read_state
//   POST /api/v3|v4/canister/<id>/call          sync: certificate in the response
//   POST /api/v2|v3/canister/<id>/query         signed by the node key
//   POST /api/v2|v3/canister/<id>/read_state    request_status, time, canister, subnet
//   POST /api/v2|v3/subnet/<id>/read_state
//   GET  /_/messages, DELETE /_/messages        the instruction log (JSON)
//   GET  /_/canisters                           canisters (JSON)
//   GET  /_/names, POST /_/names                canister names for the ic_env cookie (local only)
//   GET  /_/time                                the simulated IC time, with --ic-timing (JSON)

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { decode, encode, encodeWithSelfDescribedTag } from '@dfinity/cbor';
import { requestIdOf } from '@icp-sdk/core/agent';
import { Principal } from '@icp-sdk/core/principal';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { authenticate, buildTree } from './certification.mjs';
import { canisterIdFromIndex } from './replica.mjs';

const MAX_EXPIRY_PAST_NS = 5n * 60n * 1_000_000_000n;
const MAX_EXPIRY_FUTURE_NS = 30n * 60n * 1_000_000_000n;
const ENVELOPE_OVERHEAD_BYTES = 256 * 1024;

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif',
  '.webp': 'image/webp', '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8', '.woff': 'font/woff',
  '.woff2': 'font/woff2', '.webmanifest': 'application/manifest+json', '.did': 'text/plain; charset=utf-8',
};

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function leb128(value) {
  let v = BigInt(value);
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return new Uint8Array(out);
}

const text = (s) => new TextDecoder().decode(s);

/** The `/request_status/<rid>` subtree entries for a status record. */
function requestStatusEntries(record) {
  if (record.status === 'replied') return [['status', utf8ToBytes('replied')], ['reply', record.reply]];
  if (record.status === 'rejected') {
    return [
      ['status', utf8ToBytes('rejected')],
      ['reject_code', leb128(record.rejectCode)],
      ['reject_message', utf8ToBytes(record.rejectMessage)],
      ['error_code', utf8ToBytes(record.errorCode)],
    ];
  }
  return [['status', utf8ToBytes(record.status)]];
}

export function createHttpServer(replica, { serveDir = null, syncCalls = true } = {}) {
  const { keys } = replica;
  const cbor = (res, status, value) => send(res, status, encodeWithSelfDescribedTag(value), 'application/cbor');

  function certificate(entries) {
    return keys.certificate(buildTree([...entries, ['time', leb128(replica.now())]]));
  }

  function subnetEntries() {
    const ranges = encode([[canisterIdFromIndex(0n), canisterIdFromIndex(0xffff_ffff_ffff_ffffn)]]);
    return [[keys.subnetId.toUint8Array(), [
      ['canister_ranges', ranges],
      ['node', [[keys.nodeId.toUint8Array(), [['public_key', keys.nodePublicKey]]]]],
      ['public_key', keys.rootKey],
    ]]];
  }

  async function readEnvelope(req, expectedType, urlCanister) {
    const body = await readBody(req, replica.options.maxIngressBytes + ENVELOPE_OVERHEAD_BYTES);
    let envelope;
    try {
      envelope = decode(body);
    } catch (e) {
      throw new HttpError(400, `Could not parse body as a CBOR envelope: ${e.message}`);
    }
    const content = envelope?.content;
    if (!content || content.request_type !== expectedType) {
      throw new HttpError(400, `Expected a request of type '${expectedType}' but got '${content?.request_type}'`);
    }
    const requestId = requestIdOf(content);
    const expiry = BigInt(content.ingress_expiry ?? 0);
    const now = replica.now();
    if (expiry < now - MAX_EXPIRY_PAST_NS || expiry > now + MAX_EXPIRY_FUTURE_NS) {
      throw new HttpError(400, `Invalid request expiry: ingress_expiry ${expiry} is not within 5 minutes in the past and 30 minutes in the future of the replica time ${now}`);
    }
    const authError = authenticate(envelope, requestId);
    if (authError) throw new HttpError(400, authError);
    if (content.canister_id !== undefined && urlCanister !== undefined && content.canister_id.length > 0
      && bytesToHex(content.canister_id) !== bytesToHex(urlCanister)) {
      throw new HttpError(400, `Specified CanisterId ${Principal.fromUint8Array(content.canister_id).toText()} does not match effective canister id in URL ${Principal.fromUint8Array(urlCanister).toText()}`);
    }
    if (content.arg && content.arg.length > replica.options.maxIngressBytes) {
      throw new HttpError(413, `Request ${bytesToHex(requestId)} is too large. Message byte size ${content.arg.length} is larger than the max allowed ${replica.options.maxIngressBytes}.`);
    }
    return { content, requestId };
  }

  function callParams(content, requestId) {
    return {
      canisterId: content.canister_id,
      method: content.method_name,
      arg: content.arg ?? new Uint8Array(0),
      caller: content.sender,
      requestId,
    };
  }

  async function handleCall(req, res, version, urlCanister) {
    const { content, requestId } = await readEnvelope(req, 'call', urlCanister);
    const params = callParams(content, requestId);
    const reject = replica.admitIngress(params);
    if (reject) {
      const body = { reject_code: reject.rejectCode, reject_message: reject.rejectMessage, error_code: reject.errorCode };
      return cbor(res, 200, version === 'v2' ? body : { status: 'non_replicated_rejection', ...body });
    }
    if (replica.timing) return handleTimedCall(res, version, params);
    if (version === 'v2') {
      const key = bytesToHex(requestId);
      if (!replica.requests.has(key)) replica.requests.set(key, { status: 'received' });
      send(res, 202, new Uint8Array(0), 'application/cbor');
      setImmediate(() => replica.executeUpdate(params));
      return undefined;
    }
    return replyCertified(res, requestId, replica.executeUpdate(params));
  }

  function replyCertified(res, requestId, record) {
    return cbor(res, 200, {
      status: 'replied',
      certificate: certificate([['request_status', [[requestId, requestStatusEntries(record)]]]]),
    });
  }

  /**
   * With IC timing, as the IC answers: v2 at once with 202; v3/v4 when the reply is certified, or with 202 once
   * the synchronous call timeout (simulated seconds) has passed, after which the agent polls read_state.
   */
  async function handleTimedCall(res, version, params) {
    const certified = replica.submitUpdate(params);
    if (version === 'v2') {
      send(res, 202, new Uint8Array(0), 'application/cbor');
      return undefined;
    }
    const { clock, syncCallTimeoutSeconds } = replica.timing;
    let cancel = null;
    const timeout = new Promise((resolve) => { cancel = clock.at(clock.seconds() + syncCallTimeoutSeconds, () => resolve(null)); });
    const record = await Promise.race([certified, timeout]);
    cancel();
    if (!record) return send(res, 202, new Uint8Array(0), 'application/cbor');
    return replyCertified(res, params.requestId, record);
  }

  async function handleQuery(req, res, urlCanister) {
    const { content, requestId } = await readEnvelope(req, 'query', urlCanister);
    const record = replica.executeQuery(callParams(content, requestId));
    const body = record.status === 'replied'
      ? { status: 'replied', reply: { arg: record.reply } }
      : { status: 'rejected', reject_code: record.rejectCode, reject_message: record.rejectMessage, error_code: record.errorCode };
    return cbor(res, 200, { ...body, signatures: keys.signQueryResponse({ ...body, request_id: requestId }) });
  }

  async function handleReadState(req, res) {
    const { content } = await readEnvelope(req, 'read_state', undefined);
    const requestStatus = [];
    const canisters = new Map();
    let subnet = false;
    for (const [first, ...rest] of content.paths ?? []) {
      const label = text(first);
      if (label === 'request_status' && rest[0]) {
        const record = replica.requests.get(bytesToHex(rest[0]));
        if (record) requestStatus.push([rest[0], requestStatusEntries(record)]);
      } else if (label === 'canister' && rest[0] && rest[1]) {
        const canister = replica.canisters.get(Principal.fromUint8Array(rest[0]).toText());
        if (!canister) continue;
        const entries = canisters.get(canister.idText) ?? [];
        canisters.set(canister.idText, entries);
        const field = text(rest[1]);
        if (field === 'module_hash' && canister.code) entries.push(['module_hash', canister.code.hash]);
        if (field === 'controllers') entries.push(['controllers', encodeWithSelfDescribedTag(canister.controllers)]);
        if (field === 'metadata' && rest[2]) {
          const name = text(rest[2]);
          const meta = canister.code?.info.metadata.get(name);
          const allowed = meta && (meta.visibility === 'public'
            || canister.controllers.some((c) => bytesToHex(c) === bytesToHex(content.sender)));
          if (meta && !allowed) throw new HttpError(403, `Custom section ${name} is private and the sender is not a controller`);
          if (allowed) entries.push(['metadata', [[name, meta.data]]]);
        }
      } else if (label === 'subnet') {
        subnet = true;
      }
    }
    const entries = [];
    if (requestStatus.length) entries.push(['request_status', requestStatus]);
    if (canisters.size) {
      entries.push(['canister', [...canisters].map(([id, list]) => [Principal.fromText(id).toUint8Array(), list])]);
    }
    if (subnet) entries.push(['subnet', subnetEntries()]);
    return cbor(res, 200, { certificate: certificate(entries) });
  }

  function handleLocal(req, res, route) {
    if (route === 'messages' && req.method === 'GET') return json(res, 200, replica.messages);
    if (route === 'messages' && req.method === 'DELETE') {
      replica.messages.length = 0;
      return json(res, 200, { cleared: true });
    }
    if (route === 'canisters' && req.method === 'GET') {
      return json(res, 200, [...replica.canisters.values()].map((c) => ({
        id: c.idText,
        controllers: c.controllers.map((p) => Principal.fromUint8Array(p).toText()),
        status: c.status,
        moduleHash: c.code ? bytesToHex(c.code.hash) : null,
        heapBytes: c.heapBytes,
        stableBytes: c.stable.sizeBytes,
      })));
    }
    if (route === 'names' && req.method === 'GET') return json(res, 200, Object.fromEntries(replica.names));
    if (route === 'time' && req.method === 'GET') {
      return json(res, 200, replica.timing ? { seconds: replica.timing.seconds(), round: replica.timing.round() } : { seconds: null, round: null });
    }
    if (route === 'names' && req.method === 'POST') {
      if (!isLoopback(req.socket.remoteAddress)) throw new HttpError(403, 'POST /_/names is only accepted from localhost');
      return readBody(req, 64 * 1024).then((body) => {
        try {
          replica.setNames(JSON.parse(text(body)));
        } catch (e) {
          throw new HttpError(400, `Expected a JSON object {name: canisterId}: ${e.message}`);
        }
        return json(res, 200, Object.fromEntries(replica.names));
      });
    }
    throw new HttpError(404, `No local endpoint ${req.method} /_/${route}`);
  }

  function serveStatic(req, res, pathname) {
    const root = path.resolve(serveDir);
    let file = path.resolve(root, `.${decodeURIComponent(pathname)}`);
    if (!file.startsWith(root)) throw new HttpError(403, 'Forbidden');
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!fs.existsSync(file)) file = path.join(root, 'index.html');
    if (!fs.existsSync(file)) throw new HttpError(404, `Not found: ${pathname}`);
    const env = [`ic_root_key=${bytesToHex(keys.rootKey)}`, ...[...replica.names].map(([name, id]) => `PUBLIC_CANISTER_ID:${name}=${id}`)].join('&');
    res.setHeader('Set-Cookie', `ic_env=${encodeURIComponent(env)}; Path=/; SameSite=Lax`);
    send(res, 200, fs.readFileSync(file), CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', req.method === 'HEAD');
  }

  async function route(req, res) {
    const url = new URL(req.url, 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean);
    if (req.method === 'OPTIONS') return send(res, 204, new Uint8Array(0));
    if (parts[0] === 'api') {
      const [, version, scope, id, action] = parts;
      if (req.method === 'GET' && version === 'v2' && scope === 'status' && parts.length === 3) {
        return cbor(res, 200, { ic_api_version: '0.18.0', impl_version: 'local-replica', root_key: keys.rootKey, replica_health_status: 'healthy' });
      }
      if (req.method !== 'POST' || !id) throw new HttpError(404, `Unknown endpoint ${req.method} ${url.pathname}`);
      let target;
      try {
        target = Principal.fromText(id).toUint8Array();
      } catch {
        throw new HttpError(400, `Invalid principal in URL: ${id}`);
      }
      const callVersions = syncCalls ? ['v2', 'v3', 'v4'] : ['v2'];
      if (scope === 'canister' && action === 'call' && callVersions.includes(version)) return handleCall(req, res, version, target);
      if (scope === 'canister' && action === 'query' && ['v2', 'v3'].includes(version)) return handleQuery(req, res, target);
      if ((scope === 'canister' || scope === 'subnet') && action === 'read_state' && ['v2', 'v3'].includes(version)) return handleReadState(req, res);
      throw new HttpError(404, `Unknown endpoint ${req.method} ${url.pathname}`);
    }
    if (parts[0] === '_') return handleLocal(req, res, parts.slice(1).join('/'));
    if (serveDir && (req.method === 'GET' || req.method === 'HEAD')) return serveStatic(req, res, url.pathname);
    throw new HttpError(404, `Not found: ${url.pathname}`);
  }

  return http.createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', req.headers.origin ?? '*');
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? 'Content-Type');
    res.setHeader('Access-Control-Max-Age', '600');
    res.setHeader('Vary', 'Origin');
    Promise.resolve().then(() => route(req, res)).catch((e) => {
      if (!(e instanceof HttpError)) replica.options.log(`local-replica: internal error: ${e.stack}`);
      const status = e instanceof HttpError ? e.status : 500;
      if (!res.headersSent) send(res, status, utf8ToBytes(e.message), 'text/plain; charset=utf-8');
      else res.end();
    });
  });
}

function isLoopback(address = '') {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function send(res, status, body, contentType, headOnly = false) {
  res.statusCode = status;
  if (contentType) res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', body.length);
  res.end(headOnly ? undefined : body);
}

function json(res, status, value) {
  send(res, status, utf8ToBytes(JSON.stringify(value)), 'application/json');
}

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk); // keep draining an oversized body, then answer 413
    });
    req.on('end', () => {
      if (size > limit) reject(new HttpError(413, `Request body of ${size} bytes exceeds the maximum ingress message size.`));
      else resolve(new Uint8Array(Buffer.concat(chunks)));
    });
    req.on('error', reject);
  });
}
