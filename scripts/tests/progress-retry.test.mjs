import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpErrorCode, HttpFetchErrorCode, TransportError, ProtocolError, RejectError, UncertifiedRejectErrorCode } from '@icp-sdk/core/agent';
import { describeError, isTransientError } from '../lib/errors.mjs';
import { formatBytes, formatDuration, formatProgress, ProgressBar } from '../lib/progress.mjs';
import { backoffDelay, withRetry } from '../lib/retry.mjs';

test('formatBytes and formatDuration', () => {
  assert.equal(formatBytes(319), '319 B');
  assert.equal(formatBytes(2_108_219), '2.1 MB');
  assert.equal(formatBytes(510_368_814), '510.4 MB');
  assert.equal(formatDuration(31), '0:31');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(Infinity), '--:--');
});

test('formatProgress shows bytes, percent, rate since the resume point and ETA', () => {
  const line = formatProgress({ label: 'model.safetensors', done: 127_600_000, total: 510_400_000, startBytes: 27_600_000, elapsedMs: 10_000 });
  assert.equal(line, 'model.safetensors [#####...............]  127.6/510.4 MB  25.0%  10.0 MB/s  ETA 0:38');
  assert.equal(formatProgress({ label: 'config.json', done: 0, total: 319, elapsedMs: 0 }),
    'config.json [....................]  0/319 B  0.0%  0.0 MB/s  ETA --:--');
  assert.match(formatProgress({ label: 'x', done: 319, total: 319, elapsedMs: 5 }), /100\.0% .* ETA 0:00$/);
});

test('off a terminal the progress bar prints a line per interval and at the end', () => {
  const lines = [];
  let now = 0;
  const bar = new ProgressBar({ label: 'f', total: 100, stream: { isTTY: false, write: (s) => lines.push(s) }, intervalMs: 1000, now: () => now });
  bar.update(0);
  now = 500;
  bar.update(10);
  now = 1200;
  bar.update(50);
  now = 1300;
  bar.update(100);
  bar.finish();
  assert.equal(lines.length, 2);
  assert.match(lines[0], /50\.0%/);
  assert.match(lines[1], /100\.0%/);
});

test('transient errors: network failures, 429/5xx, SYS_TRANSIENT rejects; not canister errors', () => {
  const fetchFailed = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
  assert.ok(isTransientError(fetchFailed));
  assert.ok(isTransientError(TransportError.fromCode(new HttpFetchErrorCode(fetchFailed))));
  assert.ok(isTransientError(ProtocolError.fromCode(new HttpErrorCode(503, 'Service Unavailable', []))));
  assert.ok(!isTransientError(ProtocolError.fromCode(new HttpErrorCode(400, 'Bad Request', []))));
  const reject = (code, message) => RejectError.fromCode(new UncertifiedRejectErrorCode(new Uint8Array(32), code, message, 'IC0000', []));
  assert.ok(isTransientError(reject(2, 'busy')));
  assert.ok(!isTransientError(reject(5, 'Canister trapped')));
  assert.equal(describeError(reject(5, 'Canister trapped')), 'Canister trapped');
  assert.ok(!isTransientError(new Error('setup_model: bad config')));
});

test('withRetry backs off exponentially on transient errors and rethrows the others', async () => {
  assert.deepEqual([1, 2, 3, 6, 7].map((n) => backoffDelay(n)), [1000, 2000, 4000, 30000, 30000]);
  const waits = [];
  let calls = 0;
  const flaky = () => (++calls < 3 ? Promise.reject(Object.assign(new Error('reset'), { code: 'ECONNRESET' })) : Promise.resolve('ok'));
  assert.equal(await withRetry(flaky, { wait: async (ms) => waits.push(ms) }), 'ok');
  assert.deepEqual(waits, [1000, 2000]);
  await assert.rejects(withRetry(() => Promise.reject(new Error('no')), { wait: async () => assert.fail('no retry expected') }), /no/);
  const always = () => Promise.reject(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
  await assert.rejects(withRetry(always, { attempts: 3, wait: async () => {} }), /reset/);
});
