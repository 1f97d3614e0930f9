// scripts/loadtest's arithmetic (percentiles, Jain's index, the run's summary and table) and its users' protocol
// (one queued continue_turn, failover with replay) against fake canisters.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CertifiedRejectErrorCode, RejectError } from '@icp-sdk/core/agent';
import { CanisterError, failoverReason } from '../../frontend-canister/src/fleet-rules.js';
import {
  allUsersWindow, busyShares, crowdingCheck, idleRounds, roundMap, formatLoadTable, jainIndex, percentile, pickCanister, placementPick, runTurn, simulateUser, summarizeLoad,
} from '../lib/loadtest.mjs';

test('percentile interpolates between ranks as numpy.percentile does', () => {
  // numpy.percentile([1, 2, 3, 4], [50, 95]) == [2.5, 3.85]; numpy.percentile([7, 1, 3], 50) == 3
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.ok(Math.abs(percentile([4, 3, 2, 1], 95) - 3.85) < 1e-12);
  assert.equal(percentile([7, 1, 3], 50), 3);
  assert.equal(percentile([7, 1, 3], 100), 7);
  assert.equal(percentile([7, 1, 3], 0), 1);
  assert.equal(percentile([], 50), null);
});

test("Jain's index: 1 for equal shares, 1/n when one user gets all", () => {
  assert.equal(jainIndex([2, 2, 2, 2]), 1);
  assert.equal(jainIndex([5, 0, 0, 0]), 0.25);
  assert.ok(Math.abs(jainIndex([1, 2]) - 0.9) < 1e-12); // (1 + 2)² / (2 · (1 + 4))
  assert.equal(jainIndex([0, 0]), 1);
});

/** A turn whose tokens came in one reply at its first token. */
const turn = (sentAt, firstTokenAt, doneAt, tokens) => ({ sentAt, firstTokenAt, doneAt, tokens, replies: [{ at: firstTokenAt, tokens }] });
const user = (turns, extra = {}) => ({
  turns, crowdedMoves: 0, moves: 0, refused: 0, failed: 0, lost: false, canisters: ['model'], settledOn: 'model', ...extra,
});

test('summarizeLoad: placement, TTFT over all turns, tokens over the span and while all users chat, per-user rates without think time', () => {
  const summary = summarizeLoad([
    user([turn(10, 14, 20, 30), turn(30, 33, 40, 30)]), // 60 tokens in 20 s waited: 3 tokens/s
    user([turn(12, 20, 42, 30)], { crowdedMoves: 1, moves: 1, failed: 1 }), // 30 tokens in 30 s: 1 token/s
  ], ['model_1', 'model']);
  assert.deepEqual(summary.usersPerCanister, [2, 0]); // both settled on model
  assert.equal(summary.turns, 3);
  assert.equal(summary.tokens, 90);
  assert.equal(summary.seconds, 32); // 10 → 42
  assert.equal(summary.tokensPerSecond, 90 / 32);
  // all users chatting from 12 (the second user's first call) to 40 (the first user's last answer): the replies at
  // 14 and 33 (30 tokens each) and the second user's at 20 (30 tokens)
  assert.deepEqual(summary.allUsers, { start: 12, end: 40, seconds: 28, tokens: 90, tokensPerSecond: 90 / 28 });
  assert.equal(summary.ttftMedian, 4); // TTFTs 4, 3, 8
  assert.ok(Math.abs(summary.ttftP95 - 7.6) < 1e-12); // rank 1.9 between 4 and 8
  assert.deepEqual(summary.userTokensPerSecond, [3, 1]);
  assert.ok(Math.abs(summary.fairness - 0.8) < 1e-12); // 16 / (2 · 10)
  assert.equal(summary.moves, 1);
  assert.equal(summary.failed, 1);
  assert.equal(summary.lostConversations, 0);

  const table = formatLoadTable([{ label: 'N = 1, K = 2', summary }]).split('\n');
  assert.equal(table.length, 3);
  assert.equal(table[0].split('|').length, table[1].split('|').length);
  assert.equal(table[2], '| N = 1, K = 2 | 2 + 0 | 3 | 90 | 32.0 | 2.81 | 28.0 | 3.21 | 4.0 | 7.6 | 0.800 | 1 | 1 | 0 | 1 | 0 | — |');
  assert.match(formatLoadTable([{ label: 'x', summary: { ...summary, busy: [0.875, 0.5] } }]), /\| 88%, 50% \|$/);
});

test("busyShares: the share of the window's whole rounds in which each canister executed", () => {
  const calls = [
    { canister: 'a', rounds: [3, 6] }, // rounds 4..6 inside
    { canister: 'a', rounds: [6, 7] }, // 6 again, and 7
    { canister: 'b', rounds: [11, 12] }, // 11 inside, 12 after
    { canister: 'c', rounds: [0, 2] }, // before
  ];
  // whole rounds 4..11 of the window 3.5 → 12: 8 rounds
  assert.deepEqual(busyShares(calls, ['a', 'b', 'c'], { start: 3.5, end: 12 }), [4 / 8, 1 / 8, 0]);
  assert.equal(busyShares(calls, ['a'], { start: 3.5, end: 4.5 }), null);

  // a's idle rounds 8..11: a turn on a was under way in 7.5 → 9.2 (rounds 8 and 9), one on b in 10 → 11
  const users = [
    { turns: [{ canisterId: 'a', sentAt: 7.5, doneAt: 9.2 }] },
    { turns: [{ canisterId: 'b', sentAt: 10, doneAt: 11 }, { canisterId: 'a', sentAt: 12, doneAt: 14 }] },
  ];
  assert.deepEqual(idleRounds(calls, ['a', 'b'], users, { start: 3.5, end: 12 }), [{ idle: 4, waiting: 2 }, { idle: 7, waiting: 1 }]);
  assert.equal(idleRounds(calls, ['a'], users, { start: 3.5, end: 4.5 }), null);
});

test('roundMap draws what each canister executed in each round of the window', () => {
  const calls = [
    { canister: 'a', caller: 'p', method: 'start_turn', rounds: [4, 5] },
    { canister: 'a', caller: 'q', method: 'continue_turn', rounds: [6, 6] },
    { canister: 'a', caller: 'p', method: 'end_session', rounds: [8, 8] },
    { canister: 'b', caller: 'q', method: 'continue_turn', rounds: [2, 5] },
  ];
  const fleet = [{ name: 'model', canisterId: 'a' }, { name: 'model_1', canisterId: 'b' }];
  // rounds 4..9
  assert.deepEqual(roundMap(calls, fleet, { start: 3.5, end: 10 }), ['model   AAb.#.', 'model_1 bb....']);
  assert.deepEqual(roundMap(calls, fleet, { start: 3.5, end: 4.5 }), []);
});

test('allUsersWindow counts the tokens of replies inside the window only, and is null when the users never overlap', () => {
  const early = user([{ sentAt: 0, firstTokenAt: 2, doneAt: 10, tokens: 9, replies: [{ at: 2, tokens: 1 }, { at: 6, tokens: 4 }, { at: 10, tokens: 4 }] }]);
  const late = user([{ sentAt: 5, firstTokenAt: 8, doneAt: 20, tokens: 9, replies: [{ at: 8, tokens: 1 }, { at: 14, tokens: 8 }] }]);
  assert.deepEqual(allUsersWindow([early, late]), { start: 5, end: 10, seconds: 5, tokens: 9, tokensPerSecond: 9 / 5 }); // at 6, 8, 10
  const later = user([turn(11, 12, 15, 3)]);
  assert.equal(allUsersWindow([early, later]), null);
  assert.deepEqual(allUsersWindow([early, user([])]).tokens, 9); // a user without an answer is left out
});

/** The agent's error for a rejected call, as the scripts' agent (Node, @icp-sdk/core) throws it. */
const reject = (rejectErrorCode, rejectMessage) =>
  RejectError.fromCode(new CertifiedRejectErrorCode(new Uint8Array(32), 5, rejectMessage, rejectErrorCode));

test("the users' failures are classified by the page's rules: turn Errs and the scripts' agent errors", async () => {
  assert.equal(failoverReason(reject('IC0508', 'Canister x is stopped and therefore does not have a CallContextManager')), 'stopped');
  assert.equal(failoverReason(reject('IC0502', 'Canister trapped')), null);
  const refusal = await runTurn({ start_turn: async () => ({ Err: 'busy: all 13 sessions are in use' }) }, {
    sessionId: null, promptIds: [1], settings: {}, clock: () => 0,
  }).catch((e) => e);
  assert.ok(refusal instanceof CanisterError);
  assert.equal(failoverReason(refusal), 'busy');
});

/**
 * A fake canister: each turn yields `perCall` tokens per call until `maxNewTokens`; `failWhen(method)` may return
 * an error to throw. Records every call.
 */
function fakeCanister({ perCall = 2, failWhen = () => null } = {}) {
  const calls = [];
  const sessions = new Map();
  let nextSession = 1n;
  let nextToken = 100;
  const step = (id) => {
    const s = sessions.get(id);
    if (s.generated >= s.max) return { Ok: { session_id: id, token_ids: [], done: true } };
    const n = Math.min(perCall, s.max - s.generated);
    s.generated += n;
    return { Ok: { session_id: id, token_ids: Array.from({ length: n }, () => nextToken++), done: s.generated === s.max } };
  };
  return {
    calls,
    othersInUse: 0, // other users' sessions, to make the canister look crowded
    async load() {
      return { sessions_in_use: sessions.size + this.othersInUse, active_turns: 0, sessions: sessions.size };
    },
    async end_session(id) {
      calls.push(['end_session', id]);
      sessions.delete(id);
    },
    async start_turn(request) {
      calls.push(['start_turn', request]);
      const error = failWhen('start_turn');
      if (error) throw error;
      const id = request.session_id[0] ?? nextSession++;
      sessions.set(id, { generated: 0, max: request.settings.max_new_tokens });
      return { Ok: { session_id: id, token_ids: [], done: false } }; // the first call only reads the prompt
    },
    async continue_turn(id) {
      calls.push(['continue_turn', id]);
      const error = failWhen('continue_turn');
      if (error) throw error;
      await new Promise((resolve) => setImmediate(resolve));
      return step(id);
    },
  };
}

test('runTurn keeps one continue_turn queued while the answer needs more, and times the replies', async () => {
  const canister = fakeCanister({ perCall: 2 });
  let continues = 0;
  // a fourth call would find the answer done: runTurn must not send it (it never answers here)
  const actor = { ...canister, continue_turn: (id) => (++continues === 4 ? new Promise(() => {}) : canister.continue_turn(id)) };
  let now = 0;
  const clock = () => now++;
  const result = await runTurn(actor, { sessionId: null, promptIds: [1, 2, 3], settings: { max_new_tokens: 5 }, clock });
  assert.deepEqual(result.tokenIds, [100, 101, 102, 103, 104]);
  assert.equal(result.sentAt, 0);
  assert.equal(result.firstTokenAt, 1); // the second reply (the first continue_turn) carries the first tokens
  assert.deepEqual(result.replies, [{ at: 1, tokens: 2 }, { at: 2, tokens: 2 }, { at: 3, tokens: 1 }]);
  assert.equal(result.doneAt, 4);
  assert.equal(continues, 3); // 2 + 2 + 1: at 4 tokens the running call makes the last one
  assert.deepEqual(Array.from(canister.calls[0][1].prompt_ids[0]), [1, 2, 3]);
});

test('simulateUser moves a conversation off a stopped canister and replays it there into a new session', async () => {
  let stopped = false;
  const a = fakeCanister({ perCall: 3, failWhen: () => (stopped ? reject('IC0508', 'Canister a is stopped') : null) });
  const b = fakeCanister({ perCall: 3 });
  const members = [{ name: 'model', canisterId: 'a', actor: a }, { name: 'model_1', canisterId: 'b', actor: b }];
  const picks = [];
  let time = 0;
  const record = await simulateUser({
    pick: async (exclude) => {
      picks.push([...exclude]);
      return members.find((m) => !exclude.has(m.canisterId));
    },
    turns: 3,
    promptIds: (t) => [10 + t, 20 + t],
    settings: { max_new_tokens: 3 },
    think: (t) => {
      if (t === 2) stopped = true; // the canister stops between the second and the third turn
      return 1;
    },
    clock: () => time,
    // thinking lets the call left queued after an answer run before the next turn, as the canister's queue does
    sleepUntil: async (at) => {
      time = at;
      await new Promise((resolve) => setTimeout(resolve, 5));
    },
  });
  assert.equal(record.turns.length, 3);
  assert.equal(record.lost, false);
  assert.equal(record.moves, 1);
  assert.equal(record.failed, 1);
  assert.deepEqual(record.canisters, ['model', 'model_1']);
  assert.deepEqual(picks, [[], ['a']]);
  // Turn 2 followed up in turn 1's session on a; the replay on b is a new session with the whole conversation.
  const starts = (c) => c.calls.filter(([m]) => m === 'start_turn').map(([, r]) => ({ session: r.session_id, ids: Array.from(r.prompt_ids[0]) }));
  const onA = starts(a);
  assert.deepEqual(onA[1], { session: [1n], ids: [11, 21] });
  const answers = [[100, 101, 102], [103, 104, 105]];
  assert.deepEqual(starts(b), [{ session: [], ids: [10, 20, ...answers[0], 11, 21, ...answers[1], 12, 22] }]);
});

test('simulateUser moves a new conversation off a crowded canister after its first reply, as the page does', async () => {
  const a = fakeCanister({ perCall: 3 });
  const b = fakeCanister({ perCall: 3 });
  const members = [{ name: 'model', canisterId: 'a', actor: a }, { name: 'model_1', canisterId: 'b', actor: b }];
  const start = a.start_turn;
  a.start_turn = async (request) => {
    a.othersInUse = 1; // another user started here at the same time: 2 in use against none
    return start.call(a, request);
  };
  let time = 0;
  const record = await simulateUser({
    pick: async () => members[0],
    lessCrowdedThan: crowdingCheck(members),
    turns: 2,
    promptIds: () => [1, 2],
    settings: { max_new_tokens: 6 },
    think: () => 1,
    clock: () => time++,
    sleepUntil: async () => {},
  });
  assert.deepEqual(a.calls.map(([method, arg]) => (method === 'start_turn' ? method : `${method} ${arg}`)), ['start_turn', 'end_session 1']);
  assert.deepEqual(b.calls.filter(([m]) => m === 'start_turn').map(([, r]) => r.session_id), [[], [1n]]);
  assert.deepEqual(Array.from(b.calls[0][1].prompt_ids[0]), [1, 2]); // the same prompt, in a new session
  assert.equal(record.crowdedMoves, 1);
  assert.equal(record.settledOn, 'model_1');
  assert.deepEqual(record.turns.map((t) => t.tokens), [6, 6]);
});

test('simulateUser counts a conversation lost when every canister refuses it', async () => {
  const refusing = () => fakeCanister({ failWhen: () => new CanisterError('quota: spent') });
  const members = [{ name: 'model', canisterId: 'a', actor: refusing() }, { name: 'model_1', canisterId: 'b', actor: refusing() }];
  const record = await simulateUser({
    pick: (exclude) => pickCanister(members, exclude),
    turns: 2, promptIds: () => [1], settings: { max_new_tokens: 2 }, think: () => 0, clock: () => 0, sleepUntil: async () => {},
  });
  assert.equal(record.lost, true);
  assert.equal(record.refused, 2);
  assert.equal(record.turns.length, 0);
});

test('pickCanister: fewest sessions in use, then active turns, by the load query; a canister that does not answer is skipped', async () => {
  const loads = { a: [1, 0], b: [0, 5], c: [0, 2], d: null };
  const members = Object.entries(loads).map(([canisterId, load]) => ({
    canisterId,
    actor: {
      async load() {
        if (!load) throw reject('IC0508', `Canister ${canisterId} is stopped`);
        return { sessions_in_use: load[0], active_turns: load[1], sessions: 9, max_sessions: 13, last_call_instructions: 0n };
      },
    },
  }));
  assert.equal((await pickCanister(members)).canisterId, 'c');
  assert.equal((await pickCanister(members, new Set(['c']))).canisterId, 'b');
  await assert.rejects(pickCanister(members, new Set(['a', 'b', 'c'])), /no canister of the fleet answers/);
});

test('placementPick: even by index, least-busy over all; a move goes to the least busy', async () => {
  const loads = { a: 3, b: 0, c: 1, d: 2 };
  const members = Object.entries(loads).map(([canisterId, inUse]) => ({
    canisterId,
    actor: { load: async () => ({ sessions_in_use: inUse, active_turns: 0, sessions: inUse, max_sessions: 13, last_call_instructions: 0n }) },
  }));
  const pick = (placement, index) => placementPick(placement, { members, index });
  assert.equal((await pick('even', 6)()).canisterId, 'c');
  assert.equal((await pick('least-busy', 0)()).canisterId, 'b');
  for (const placement of ['even', 'least-busy']) assert.equal((await pick(placement, 1)(new Set(['b']))).canisterId, 'c');
});

test('scripts/loadtest rejects bad flags before starting anything', () => {
  const script = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), 'loadtest');
  for (const [args, message] of [[['--stop-at', '5'], /--stop-at needs --replicas 2/], [['--shape', 'huge'], /--shape must be one of/], [['--placement', 'two-choices'], /--placement must be one of/], [['--replicas', '99'], /replicas must be 1\.\.32/]]) {
    const { status, stderr } = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
    assert.equal(status, 1, args.join(' '));
    assert.match(stderr, message);
  }
});
