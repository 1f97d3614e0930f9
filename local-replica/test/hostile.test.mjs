// Hostile input against the replica: no request stops the process, malformed requests get 4xx or the IC's reject
// codes (never 500), and the local /_/ endpoints refuse other web pages.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { encode } from '@dfinity/cbor';
import { AnonymousIdentity } from '@icp-sdk/core/agent';
import { wat2wasm, startTestReplica, newIdentity, newAgent, managementActor } from '../testing/helpers.mjs';
import { COUNTER_WAT } from '../testing/canisters.mjs';

let served;
/** Takes v2 calls only: they run after the 202, outside the request's own error handling. */
let asyncServed;

before(async () => {
  served = await startTestReplica();
  asyncServed = await startTestReplica({ syncCalls: false });
});
after(() => {
  served.close();
  asyncServed.close();
});

async function alive(replica = served) {
  const status = await fetch(`${replica.url}/api/v2/status`);
  assert.equal(status.status, 200);
}

/** The status the replica recorded for the last call (the agent's v2 path cannot format certified rejects). */
const lastRequest = (replica) => [...replica.replica.requests.values()].at(-1);

test('an anonymous install of a truncated gzip module through /api/v2/…/call is rejected with IC0505; the replica lives on', async () => {
  const agent = await newAgent(asyncServed.url, new AnonymousIdentity());
  const mgmt = managementActor(agent);
  const { canister_id: canisterId } = await mgmt.create_canister({ settings: [], sender_canister_version: [] });
  const gzipped = gzipSync(wat2wasm(COUNTER_WAT));
  const truncated = gzipped.subarray(0, gzipped.length - 20);
  await assert.rejects(mgmt.install_code({
    mode: { install: null }, canister_id: canisterId, wasm_module: truncated, arg: new Uint8Array(0), sender_canister_version: [],
  }));
  const record = lastRequest(asyncServed);
  assert.equal(record.errorCode, 'IC0505');
  assert.match(record.rejectMessage, /Canister's Wasm module is not valid: .*(unexpected end|end of file)/i);
  await alive(asyncServed);
  // and an intact module installs afterwards
  await mgmt.install_code({ mode: { install: null }, canister_id: canisterId, wasm_module: gzipped, arg: new Uint8Array(0), sender_canister_version: [] });
  await alive(asyncServed);
});

test('an error inside an update executed after the 202 becomes a reject, not a crash', async () => {
  const agent = await newAgent(asyncServed.url, newIdentity(21));
  const { replica } = asyncServed;
  const original = replica.runManagement;
  replica.runManagement = () => { throw new TypeError('simulated replica bug'); };
  try {
    await assert.rejects(managementActor(agent).create_canister({ settings: [], sender_canister_version: [] }));
  } finally {
    replica.runManagement = original;
  }
  assert.deepEqual([lastRequest(asyncServed).errorCode, lastRequest(asyncServed).rejectMessage],
    ['IC0504', 'local-replica internal error: simulated replica bug']);
  await alive(asyncServed);
});

/** Posts a CBOR envelope to an endpoint; returns the status and text. */
async function post(path, envelope) {
  const response = await fetch(`${served.url}${path}`, {
    method: 'POST', headers: { 'Content-Type': 'application/cbor' }, body: encode(envelope),
  });
  return { status: response.status, text: await response.text() };
}

test('wrongly typed CBOR fields get 400, never 500', async () => {
  const canister = 'aaaaa-aa';
  const now = BigInt(Date.now()) * 1_000_000n;
  const anonymous = new Uint8Array([4]);
  const good = { request_type: 'call', sender: anonymous, ingress_expiry: now + 60_000_000_000n, canister_id: new Uint8Array(0), method_name: 'create_canister', arg: new Uint8Array(0) };
  const variants = {
    'ingress_expiry as text': { ingress_expiry: 'soon' },
    'ingress_expiry as a float': { ingress_expiry: 1.5 },
    'sender as text': { sender: 'me' },
    'method_name as bytes': { method_name: new Uint8Array([1]) },
    'arg as text': { arg: 'DIDL' },
    'canister_id as a number': { canister_id: 7 },
    'nonce as a map': { nonce: { a: 1 } },
    'no method_name': { method_name: undefined },
  };
  for (const [what, change] of Object.entries(variants)) {
    const content = Object.fromEntries(Object.entries({ ...good, ...change }).filter(([, v]) => v !== undefined));
    for (const path of [`/api/v2/canister/${canister}/call`, `/api/v3/canister/${canister}/call`]) {
      const { status, text } = await post(path, { content });
      assert.equal(status, 400, `${what} on ${path}: ${status} ${text}`);
    }
    const query = await post(`/api/v2/canister/${canister}/query`, { content: { ...content, request_type: 'query' } });
    assert.equal(query.status, 400, `${what} as a query: ${query.text}`);
  }
  const readState = { request_type: 'read_state', sender: anonymous, ingress_expiry: now + 60_000_000_000n };
  for (const paths of [7, [7], [['time']], [[new Uint8Array([1]), 'x']]]) {
    const { status, text } = await post(`/api/v2/canister/${canister}/read_state`, { content: { ...readState, paths } });
    assert.equal(status, 400, `paths ${JSON.stringify(paths)}: ${text}`);
  }
  for (const body of [{ content: 'call' }, { content: [1, 2] }, 'just text', 42]) {
    const { status } = await post(`/api/v3/canister/${canister}/call`, body);
    assert.equal(status, 400, JSON.stringify(body));
  }
  const garbage = await fetch(`${served.url}/api/v3/canister/${canister}/call`, { method: 'POST', body: new Uint8Array([0xff, 0x00, 0x13]) });
  assert.equal(garbage.status, 400);
  await alive();
});

test('the /_/ endpoints refuse other origins and other host names, and send no CORS headers', async () => {
  const evil = { Origin: 'https://evil.example' };
  const names = await fetch(`${served.url}/_/names`, { method: 'POST', headers: evil, body: JSON.stringify({ frontend: 'rrkah-fqaaa-aaaaa-aaaaq-cai' }) });
  assert.equal(names.status, 403);
  assert.equal(names.headers.get('access-control-allow-origin'), null);
  assert.deepEqual(await (await fetch(`${served.url}/_/names`)).json(), {}, 'the names did not change');
  served.replica.messages.push({ method: 'marker' });
  const cleared = await fetch(`${served.url}/_/messages`, { method: 'DELETE', headers: evil });
  assert.equal(cleared.status, 403);
  assert.ok((await (await fetch(`${served.url}/_/messages`)).json()).length > 0, 'the log was not cleared');
  const read = await fetch(`${served.url}/_/messages`, { headers: evil });
  assert.equal(read.status, 403);
  const preflight = await fetch(`${served.url}/_/messages`, {
    method: 'OPTIONS', headers: { ...evil, 'Access-Control-Request-Method': 'DELETE' },
  });
  assert.equal(preflight.headers.get('access-control-allow-origin'), null);
  assert.equal(preflight.headers.get('access-control-allow-methods'), null);
  // DNS rebinding: the attacker's name resolving to 127.0.0.1, Origin and Host both the attacker's
  const port = new URL(served.url).port;
  const http = await import('node:http');
  const rebound = await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/_/messages', method: 'DELETE',
      headers: { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` } }, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', reject);
    req.end();
  });
  assert.equal(rebound, 403);
  // the replica's own page and non-browser clients still work
  const sameOrigin = await fetch(`${served.url}/_/names`, { headers: { Origin: served.url.replace(/\/$/, '') } });
  assert.equal(sameOrigin.status, 200);
  assert.equal((await fetch(`${served.url}/_/messages`, { method: 'DELETE' })).status, 200);
});
