// What users feel on mainnet, measured by `scripts/bench --streaming` under local-replica's mainnet timing model
// (simulated IC seconds): time to first token, seconds between visible updates and tokens per second, for the
// fewest-calls way of calling the canister (every call at the 36 B maximum, the next one sent when a reply arrives)
// and for its adaptive budgets (no call_budget; the client keeps one continue_turn queued behind the running call).

import { sendAnotherCall } from '../../frontend-canister/src/turn-rules.js';
import { B, replaceSection } from './bench.mjs';

/** The fewest-calls mode's budget: the canister's maximum per call (ModelService.MAX_CALL_BUDGET). */
export const FEWEST_CALLS_BUDGET = 36 * B;

export const MODES = [
  { key: 'fewest', title: 'Fewest calls (36 B per call, next call sent on each reply)', callBudget: FEWEST_CALLS_BUDGET, queued: 0 },
  { key: 'adaptive', title: 'Adaptive budgets (no call_budget, one call kept queued)', callBudget: null, queued: 1 },
];

/** A prompt of `length` ids that are no stop tokens (the seed benchmark's [1, 2, 3, 4] pattern, shifted). */
export function streamingPromptIds(length, offset = 0) {
  return Array.from({ length }, (_, i) => 1 + ((i + offset) % 4));
}

/**
 * Runs one turn as a chat page would. `clock()` times it from the client's side (the bench replaces those times
 * with the replica's: see withReplicaTimes). Returns { sessionId, sent, replies: [{ at, tokens }] } with the
 * replies in the order they arrived.
 */
export async function runTurn({ model, clock, sessionId = null, promptIds, maxNewTokens, mode }) {
  const settings = {
    max_new_tokens: maxNewTokens, temperature: 0, top_k: 0, top_p: 1, seed: 0n,
    call_budget: mode.callBudget === null ? [] : [BigInt(mode.callBudget)],
  };
  const sent = clock();
  const replies = [];
  let tokens = 0;
  let done = false;
  const record = (progress, what) => {
    if ('Err' in progress) throw new Error(`${what}: ${progress.Err}`);
    const ok = progress.Ok;
    replies.push({ at: clock(), tokens: ok.token_ids.length });
    tokens += ok.token_ids.length;
    if (ok.done) done = true;
    return ok;
  };
  // One call runs while `mode.queued` more wait behind it (adaptive: while the answer needs more, as the page's
  // client does); a reply sends the next one.
  const inFlight = new Set();
  const send = (id) => {
    const call = model.continue_turn(id).then((progress) => {
      inFlight.delete(call);
      record(progress, 'continue_turn');
    });
    inFlight.add(call);
  };
  const start = model.start_turn({ session_id: sessionId === null ? [] : [sessionId], prompt: '', prompt_ids: [promptIds], settings });
  // Nothing waits behind start_turn, as in the page: ingress messages sent together may reach the canister in either
  // order, and a continue_turn that ran first would find the previous turn done.
  const first = record(await start, 'start_turn');
  const id = first.session_id;
  const sendMore = () => (mode.queued === 0 ? inFlight.size === 0 : sendAnotherCall({
    sent: inFlight.size, generatedTokens: tokens, lastReplyTokens: replies.at(-1).tokens, maxNewTokens: settings.max_new_tokens,
  }));
  while (!done) {
    while (sendMore()) send(id);
    await Promise.race(inFlight);
  }
  await Promise.all(inFlight); // calls already queued return without tokens
  return { sessionId: id, sent, replies };
}

/**
 * The turn timed by the replica instead of the client: sent = when the replica received the first call, each
 * reply's time = when it was certified. `calls`: the replica's timedCalls of this caller during the turn, in
 * certification order (the order the client received the replies in).
 */
export function withReplicaTimes(turn, calls) {
  if (calls.length !== turn.replies.length) throw new Error(`the replica certified ${calls.length} calls of this turn, the client received ${turn.replies.length}`);
  return {
    ...turn,
    sent: Math.min(...calls.map((c) => c.receivedAt)),
    replies: turn.replies.map((reply, i) => ({ ...reply, at: calls[i].certifiedAt })),
  };
}

/** Time to first token, the largest and mean gap between visible updates, tokens per second (seconds from sent). */
export function summarize(turn) {
  const updates = turn.replies.filter((r) => r.tokens > 0);
  const times = updates.map((u) => u.at - turn.sent);
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  const tokens = updates.reduce((n, u) => n + u.tokens, 0);
  const total = times.at(-1) ?? null;
  return {
    firstToken: times[0] ?? null,
    maxGap: gaps.length ? Math.max(...gaps) : null,
    meanGap: gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : null,
    total,
    tokens,
    tokensPerSecond: total ? tokens / total : 0,
    calls: turn.replies.length,
  };
}

const s = (seconds) => (seconds === null ? '—' : `${seconds.toFixed(1)} s`);

/** The Markdown section for docs/benchmark.md. */
export function renderStreamingSection({ results, meta }) {
  const row = (label, pick) => `| ${label} | ${MODES.map((m) => pick(results[m.key])).join(' | ')} |`;
  const users = (r) => r.users;
  const lines = [
    STREAMING_HEADING,
    '',
    `Measured by \`scripts/bench --streaming\` on ${meta.date}: commit ${meta.commit}, ${meta.machine}, Node ${meta.node}; ${meta.duration} in all.`,
    '',
    `local-replica runs the calls under its mainnet timing model (\`--ic-timing mainnet\`: ${meta.timing}). All times are `
      + '**simulated IC seconds**, taken by the replica: from the moment it receives a turn\'s first call to the moment each reply is '
      + `certified. ${meta.timeScale === 1 ? 'Its clock ran at real speed (real IC seconds)' : `Its clock ran at ${1 / meta.timeScale}× real speed (\`--time-scale ${meta.timeScale}\`)`} and waits for the host `
      + 'whenever it executes more slowly than the IC would, so the figures do not depend on this machine\'s speed. The client (the '
      + 'official agent, in the same process) sends its next call when a reply reaches it; that reaction runs in real time'
      + `${meta.timeScale === 1 ? '' : `, so it counts ${1 / meta.timeScale}× in simulated time`}: from a reply's certification to the next call's arrival took `
      + `${results.fewest.reaction === null ? '—' : `${results.fewest.reaction.toFixed(2)} s`} on average here (fewest-calls mode; on mainnet, `
      + 'a network round trip and the agent\'s certificate check). The synchronous call endpoint waits for '
      + 'every reply here (no 202 fallback after 10 s), so the agent\'s real-time polling does not distort the compressed clock. '
      + `Model: a random GPT-2 of the real shape (${meta.shape}), f32 weights; greedy decoding; prompts of ${meta.promptTokens} token ids; `
      + `answers of ${meta.maxNewTokens} tokens.`,
    '',
    `| | ${MODES.map((m) => m.title).join(' | ')} |`,
    `|---|${MODES.map(() => '---:').join('|')}|`,
    row(`New chat, ${meta.promptTokens}-token prompt: first token`, (r) => s(r.newChat.firstToken)),
    row('New chat: largest / mean gap between visible updates', (r) => `${s(r.newChat.maxGap)} / ${s(r.newChat.meanGap)}`),
    row(`New chat: ${meta.maxNewTokens}-token answer, total`, (r) => `${s(r.newChat.total)} (${r.newChat.tokens} tokens, ${r.newChat.calls} calls sent)`),
    row('New chat: tokens per second', (r) => r.newChat.tokensPerSecond.toFixed(2)),
    row(`Follow-up turn, ${meta.promptTokens}-token prompt: first token`, (r) => s(r.followUp.firstToken)),
    row('Follow-up: largest / mean gap between visible updates', (r) => `${s(r.followUp.maxGap)} / ${s(r.followUp.meanGap)}`),
    row(`Follow-up: ${meta.maxNewTokens}-token answer, total`, (r) => `${s(r.followUp.total)} (${r.followUp.tokens} tokens, ${r.followUp.calls} calls sent)`),
    row(`${meta.users} users at once on one canister: each one's first token`, (r) => users(r).map((u) => s(u.firstToken)).join(', ')),
    row(`${meta.users} users: largest gap between visible updates`, (r) => s(Math.max(...users(r).map((u) => u.maxGap ?? 0)))),
    row(`${meta.users} users: canister's total tokens per second`, (r) => `${r.usersTokensPerSecond.toFixed(2)} (${users(r).reduce((n, u) => n + u.tokens, 0)} tokens in ${s(r.usersTotal)})`),
    '',
    `A \`status\` query sent while a 36 B update was executing answered in ${meta.queryMs.toFixed(0)} ms (real time; queries run on `
      + 'the last committed state, in parallel with the update\'s worker thread).',
    '',
    ...targetRows(results, meta),
    '',
    'Fewest calls: each call spends up to 36 B instructions (18 rounds), so nothing is visible until it ends, and the next call '
      + 'starts only after its reply reached the client (about 2 rounds idle per call). Adaptive: the canister sizes the first call for '
      + 'the prompt and one token in whole 2 B slices, the second call one slice, later calls 2 slices, or one slice while other '
      + 'turns are under way on the canister, but for the older of two. The client keeps one `continue_turn` queued behind the '
      + 'running call (none behind `start_turn`: ingress messages sent together may reach the canister in either order), and no call that would find the '
      + 'answer done. A reply is visible the round after its call ends, and the next call sent on it runs the round after it '
      + 'arrives: with 2-slice calls it arrives while the queued call runs, so the canister never idles (with 1-slice calls '
      + 'it would idle a round in three). While others are under way their calls fill those rounds, and 1-slice calls keep a '
      + 'newcomer\'s wait in the first-in-first-out queue to a round per call. A Stop pressed while a call is queued (an '
      + 'ingress message cannot be withdrawn) reaches the canister after that call, at most 2 slices. The first gap is the '
      + 'client\'s reaction to the first reply, a round of induction, one slice and a round of certification.',
  ];
  return `${lines.join('\n')}\n`;
}

/** The issue's targets, met or not, with the adaptive mode's figures. */
function targetRows({ fewest, adaptive }, meta) {
  const verdict = (ok) => (ok ? 'met' : '**missed**');
  const within = (turn, key) => turn.total / fewest[key].total - 1;
  const rows = [
    ['First token within 4 s (new chat / follow-up)', `${s(adaptive.newChat.firstToken)} / ${s(adaptive.followUp.firstToken)}`,
      verdict(adaptive.newChat.firstToken <= 4 && adaptive.followUp.firstToken <= 4)],
    ['A visible update at least every 4 s (largest gap: new chat / follow-up)', `${s(adaptive.newChat.maxGap)} / ${s(adaptive.followUp.maxGap)}`,
      verdict(adaptive.newChat.maxGap <= 4 && adaptive.followUp.maxGap <= 4)],
    [`A ${meta.maxNewTokens}-token answer within 10% of fewest calls' total (new chat / follow-up)`,
      `${(100 * within(adaptive.newChat, 'newChat')).toFixed(1)}% / ${(100 * within(adaptive.followUp, 'followUp')).toFixed(1)}%`,
      verdict(within(adaptive.newChat, 'newChat') <= 0.1 && within(adaptive.followUp, 'followUp') <= 0.1)],
    ['A query answers within 1 s while a 36 B update runs', `${meta.queryMs.toFixed(0)} ms`, verdict(meta.queryMs < 1000)],
  ];
  return [
    '| Target (adaptive budgets) | Measured | |',
    '|---|---:|---|',
    ...rows.map((cells) => `| ${cells.join(' | ')} |`),
    '',
    'A first token comes 1 round (induction) + the first call\'s slices + 1 round (certification) after the round the call '
      + 'arrives in, so it varies by up to a second with where in its round a call arrives. The canister prices the first call\'s '
      + 'prompt from the last cost of each batch size it has read (a 20-token prompt is a batch of 16 and one of 4, and a batch of 4 '
      + 'costs more per token), with a margin, and rounds up to whole slices.',
  ];
}

export const STREAMING_HEADING = '## Streaming under the IC\'s mainnet timing (simulated IC seconds)';

/** `document` with its streaming section replaced by `section` (or `section` appended). */
export function withStreamingSection(document, section) {
  return replaceSection(document, STREAMING_HEADING, section);
}
