import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MODES, runTurn, streamingPromptIds, STREAMING_HEADING, summarize, withReplicaTimes, withStreamingSection,
} from '../lib/streaming-bench.mjs';
import { sectionOf } from '../lib/bench.mjs';

const [fewest, adaptive] = MODES;

/**
 * A canister stand-in that serves calls one at a time, in order, each taking 1 tick of a fake clock and giving
 * `perCall` tokens until `total`; it records how many calls were waiting when each arrived.
 */
function fakeModel({ total, perCall }) {
  let time = 0;
  let generated = 0;
  let queue = Promise.resolve();
  const waitingOnArrival = [];
  let waiting = 0;
  const methods = [];
  const serve = (method) => {
    methods.push(method);
    waitingOnArrival.push(waiting++);
    const reply = queue.then(async () => {
      await new Promise((resolve) => setImmediate(resolve));
      time += 1;
      waiting--;
      const tokens = Math.min(perCall, total - generated);
      generated += tokens;
      return { Ok: { session_id: 7n, token_ids: Array(tokens).fill(1), done: generated === total } };
    });
    queue = reply;
    return reply;
  };
  return {
    model: { start_turn: () => serve('start_turn'), continue_turn: () => serve('continue_turn') },
    clock: () => time,
    waitingOnArrival,
    methods,
  };
}

test('fewest-calls mode sends the next call only when a reply arrived', async () => {
  const fake = fakeModel({ total: 10, perCall: 4 });
  const turn = await runTurn({ ...fake, promptIds: [1], maxNewTokens: 10, mode: fewest });
  assert.deepEqual(fake.methods, ['start_turn', 'continue_turn', 'continue_turn']);
  assert.deepEqual(fake.waitingOnArrival, [0, 0, 0]);
  assert.deepEqual(turn.replies, [{ at: 1, tokens: 4 }, { at: 2, tokens: 4 }, { at: 3, tokens: 2 }]);
  assert.equal(turn.sent, 0);
});

test('adaptive mode keeps one continue_turn queued while the answer needs more, and none behind start_turn', async () => {
  const fresh = fakeModel({ total: 10, perCall: 4 });
  await runTurn({ ...fresh, promptIds: [1], maxNewTokens: 10, mode: adaptive });
  // the session id comes with the first reply; then one call runs while another waits behind it
  assert.deepEqual(fresh.waitingOnArrival.slice(0, 3), [0, 0, 1]);
  const followUp = fakeModel({ total: 10, perCall: 4 });
  const turn = await runTurn({ ...followUp, sessionId: 7n, promptIds: [1], maxNewTokens: 10, mode: adaptive });
  // a follow-up's session id is known, yet its second call waits for the first reply (the two could swap places)
  assert.deepEqual(followUp.waitingOnArrival.slice(0, 3), [0, 0, 1]);
  assert.equal(summarize(turn).tokens, 10);
  // at 8 of 10 tokens, with 4 a call, the running call makes the last ones: no call is queued to find the turn done
  assert.deepEqual(followUp.methods, ['start_turn', 'continue_turn', 'continue_turn']);
  assert.equal(turn.replies.at(-1).tokens, 2);
});

test('summarize: first token, gaps between visible updates, tokens per second', () => {
  const replies = [{ at: 13.5, tokens: 1 }, { at: 17.5, tokens: 30 }, { at: 19.5, tokens: 9 }, { at: 20.5, tokens: 0 }];
  const summary = summarize({ sent: 10, replies });
  assert.deepEqual(summary, { firstToken: 3.5, maxGap: 4, meanGap: 3, total: 9.5, tokens: 40, tokensPerSecond: 40 / 9.5, calls: 4 });
  assert.deepEqual(streamingPromptIds(6, 1), [2, 3, 4, 1, 2, 3]);
});

test('withReplicaTimes takes the send time and reply times from the replica\'s certified calls', () => {
  const turn = { sessionId: 7n, sent: 100, replies: [{ at: 105, tokens: 1 }, { at: 109, tokens: 30 }] };
  const calls = [{ receivedAt: 2.25, certifiedAt: 6 }, { receivedAt: 2.5, certifiedAt: 10 }];
  assert.deepEqual(withReplicaTimes(turn, calls), { sessionId: 7n, sent: 2.25, replies: [{ at: 6, tokens: 1 }, { at: 10, tokens: 30 }] });
  assert.throws(() => withReplicaTimes(turn, calls.slice(1)), /certified 1 calls of this turn, the client received 2/);
});

test('the streaming section is replaced in place, appended when absent, and found again', () => {
  const section = `${STREAMING_HEADING}\n\nnew\n`;
  const appended = withStreamingSection('# Bench\n\n## Table\n\nrows\n', section);
  assert.equal(appended, `# Bench\n\n## Table\n\nrows\n\n${section}`);
  const withNext = `# Bench\n\n${STREAMING_HEADING}\n\nold\n\n## Later\n\nkept\n`;
  assert.equal(withStreamingSection(withNext, section), `# Bench\n\n${section}\n## Later\n\nkept\n`);
  assert.equal(sectionOf(appended, STREAMING_HEADING), section);
  assert.equal(sectionOf('# Bench\n', STREAMING_HEADING), null);
});
