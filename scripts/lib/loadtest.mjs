// scripts/loadtest's parts that do not need a replica: the statistics of a run (time to first token, tokens per
// second over the run and while all users chat, fairness), its report, and one simulated user (a conversation of
// several turns with think time, kept on its canister, moved and replayed when that canister is stopped or refuses
// it). Which canister is least busy and which failed calls move a conversation are the chat page's own rules
// (frontend-canister/src/fleet-rules.js).

import { CanisterError, canisterLoad, failoverReason, leastBusy, lessCrowded } from '../../frontend-canister/src/fleet-rules.js';
import { sendAnotherCall } from '../../frontend-canister/src/turn-rules.js';

/** Percentile `p` (0..100) of `values`, interpolated linearly between the closest ranks (numpy's default). */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

/** Jain's fairness index (Σx)² / (n·Σx²): 1 when all users get the same, 1/n when one user gets everything. */
export function jainIndex(values) {
  if (values.length === 0) return null;
  const sum = values.reduce((a, b) => a + b, 0);
  const squares = values.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? 1 : (sum * sum) / (values.length * squares);
}

/**
 * The window in which all users were chatting: from the last user's first call to the moment the first user got
 * the end of their last answer (users who got no answer at all are left out), and the tokens that arrived in it,
 * per second. Null when there is no such window (a user was done before the last one came).
 */
export function allUsersWindow(users) {
  const chatting = users.filter((u) => u.turns.length > 0);
  if (chatting.length === 0) return null;
  const start = Math.max(...chatting.map((u) => u.turns[0].sentAt));
  const end = Math.min(...chatting.map((u) => u.turns.at(-1).doneAt));
  if (!(end > start)) return null;
  const tokens = chatting.flatMap((u) => u.turns.flatMap((t) => t.replies))
    .filter((r) => r.at >= start && r.at <= end)
    .reduce((sum, r) => sum + r.tokens, 0);
  return { start, end, seconds: end - start, tokens, tokensPerSecond: tokens / (end - start) };
}

/**
 * The run's figures from the users' records (see simulateUser) on the canisters named `canisters`: how many
 * conversations each canister held after their first turn (most first), time to first token over all turns (median, p95, seconds), total tokens per
 * second over the run's span (first call sent to last answer) and over the window in which all users were chatting
 * (allUsersWindow), each user's tokens per second while it waited for answers (think time excluded) and Jain's
 * index over them, and the calls that failed.
 */
export function summarizeLoad(users, canisters) {
  const turns = users.flatMap((u) => u.turns);
  const ttfts = turns.filter((t) => t.firstTokenAt !== null).map((t) => t.firstTokenAt - t.sentAt);
  const tokens = turns.reduce((sum, t) => sum + t.tokens, 0);
  const start = Math.min(...turns.map((t) => t.sentAt));
  const end = Math.max(...turns.map((t) => t.doneAt));
  const perUser = users.map((u) => {
    const waited = u.turns.reduce((sum, t) => sum + (t.doneAt - t.sentAt), 0);
    return waited > 0 ? u.turns.reduce((sum, t) => sum + t.tokens, 0) / waited : 0;
  });
  const count = (key) => users.reduce((sum, u) => sum + u[key], 0);
  return {
    users: users.length,
    usersPerCanister: canisters.map((name) => users.filter((u) => u.settledOn === name).length).sort((a, b) => b - a),
    turns: turns.length,
    tokens,
    seconds: turns.length ? end - start : 0,
    tokensPerSecond: turns.length && end > start ? tokens / (end - start) : 0,
    allUsers: allUsersWindow(users),
    ttftMedian: percentile(ttfts, 50),
    ttftP95: percentile(ttfts, 95),
    userTokensPerSecond: perUser,
    fairness: jainIndex(perUser),
    crowdedMoves: count('crowdedMoves'),
    moves: count('moves'),
    refused: count('refused'),
    failed: count('failed'),
    lostConversations: users.filter((u) => u.lost).length,
  };
}

/** The whole one-second rounds of `window` ({ start, end } seconds), as [first, last]; null when it holds none. */
function wholeRounds({ start, end }) {
  const first = Math.ceil(start);
  const last = Math.floor(end) - 1;
  return last < first ? null : [first, last];
}

/** The rounds in [first, last] in which canister `id` executed a message, from the replica's timed calls. */
function busyRounds(calls, id, [first, last]) {
  const busy = new Set();
  for (const { canister, rounds: [from, to] } of calls) {
    if (canister !== id) continue;
    for (let r = Math.max(from, first); r <= Math.min(to, last); r++) busy.add(r);
  }
  return busy;
}

/**
 * How busy each canister (`canisterIds`) was in `window`: the share of the window's whole rounds in which it executed
 * a message, from the replica's timed calls ({ canister, rounds: [first, last] }). Null when the window holds no
 * whole round.
 */
export function busyShares(calls, canisterIds, window) {
  const rounds = wholeRounds(window);
  return rounds && canisterIds.map((id) => busyRounds(calls, id, rounds).size / (rounds[1] - rounds[0] + 1));
}

/**
 * Each canister's idle rounds in `window` ({ idle, waiting }): all of them, and those in which one of its users
 * (simulateUser's records, whose turns name their canister) was waiting for an answer there (from sending a turn's
 * first call to receiving its end: a call being inducted, a reply being certified, the client between two calls);
 * in the others all its users were reading or writing their next question. Null when the window holds no whole round.
 */
export function idleRounds(calls, canisterIds, users, window) {
  const rounds = wholeRounds(window);
  if (!rounds) return null;
  const turns = users.flatMap((u) => u.turns);
  return canisterIds.map((id) => {
    const busy = busyRounds(calls, id, rounds);
    let idle = 0;
    let waiting = 0;
    for (let r = rounds[0]; r <= rounds[1]; r++) {
      if (busy.has(r)) continue;
      idle++;
      if (turns.some((t) => t.canisterId === id && t.sentAt < r + 1 && t.doneAt > r)) waiting++;
    }
    return { idle, waiting };
  });
}

/**
 * What each canister of `fleet` ({ name, canisterId }) executed in each round of `window` (seconds), one line each:
 * a letter per user (by caller, in order of first appearance; a capital for start_turn), '#' for another method
 * (end_session), '.' for an idle round.
 */
export function roundMap(calls, fleet, window) {
  const rounds = wholeRounds(window);
  if (!rounds) return [];
  const callers = [...new Set(calls.map((c) => c.caller))];
  const width = Math.max(...fleet.map((f) => f.name.length));
  return fleet.map(({ name, canisterId }) => {
    const line = Array.from({ length: rounds[1] - rounds[0] + 1 }, () => '.');
    for (const { canister, caller, method, rounds: [from, to] } of calls) {
      if (canister !== canisterId) continue;
      const letter = String.fromCharCode(97 + (callers.indexOf(caller) % 26));
      const mark = method === 'start_turn' ? letter.toUpperCase() : method === 'continue_turn' ? letter : '#';
      for (let r = Math.max(from, rounds[0]); r <= Math.min(to, rounds[1]); r++) line[r - rounds[0]] = mark;
    }
    return `${name.padEnd(width)} ${line.join('')}`;
  });
}

const fixed = (value, digits) => (value === null || value === undefined ? '—' : value.toFixed(digits));

/** A Markdown table of summaries, one row per run ({ label, summary }). */
export function formatLoadTable(rows) {
  const header = '| Run | Users per canister | Turns | Tokens | Seconds | Tokens/s | All users chatting (s) | Tokens/s then | TTFT median (s) '
    + '| TTFT p95 (s) | Fairness (Jain) | Moved when crowded | Moved on failure | Refused | Failed | Lost conversations | Canisters busy then |';
  const lines = rows.map(({ label, summary: s }) => `| ${label} | ${s.usersPerCanister.join(' + ')} | ${s.turns} | ${s.tokens} | ${fixed(s.seconds, 1)} | ${fixed(s.tokensPerSecond, 2)} `
    + `| ${fixed(s.allUsers?.seconds, 1)} | ${fixed(s.allUsers?.tokensPerSecond, 2)} `
    + `| ${fixed(s.ttftMedian, 1)} | ${fixed(s.ttftP95, 1)} | ${fixed(s.fairness, 3)} | ${s.crowdedMoves} | ${s.moves} | ${s.refused} | ${s.failed} | ${s.lostConversations} `
    + `| ${s.busy ? s.busy.map((share) => `${Math.round(share * 100)}%`).join(', ') : '—'} |`);
  return [header, `|${'---|'.repeat(17)}`, ...lines].join('\n');
}

/**
 * One turn on one canister as the chat page runs it (frontend-canister/src/turn.ts): start_turn, then
 * continue_turn with one call kept queued behind the running one while the answer needs more (sendAnotherCall);
 * when the answer is done, a call still queued is left to run (its reply carries nothing). A turn that opens a
 * session asks `rebalance(sessionId)` after its first reply, as the page does: given another canister's actor, it
 * starts over in a new session there. Returns { sessionId, sentAt, firstTokenAt, doneAt, tokenIds, replies } in
 * `clock` seconds, `replies` being when each reply with tokens came and how many ({ at, tokens }); the first token is
 * when the user saw it first, before any move.
 */
export async function runTurn(actor, { sessionId, promptIds, settings, clock, rebalance }) {
  const sentAt = clock();
  let firstTokenAt = null;
  let done = false;
  let tokenIds = [];
  let replies = [];
  let lastReplyTokens = 0;
  const take = (result) => {
    if (done) return null; // a continue_turn queued behind the last call: nothing more to read
    if ('Err' in result) throw new CanisterError(result.Err);
    const progress = result.Ok;
    lastReplyTokens = progress.token_ids.length;
    if (progress.token_ids.length) {
      const at = clock();
      firstTokenAt ??= at;
      replies.push({ at, tokens: progress.token_ids.length });
    }
    tokenIds.push(...progress.token_ids);
    done = progress.done;
    return progress;
  };
  const start = () => actor.start_turn({
    session_id: sessionId === null ? [] : [sessionId], prompt: '', prompt_ids: [Uint32Array.from(promptIds)], settings,
  });
  let id = take(await start()).session_id;
  const movedTo = sessionId === null && !done && rebalance ? await rebalance(id) : null;
  if (movedTo) {
    actor = movedTo;
    tokenIds = []; // the new session answers from the start
    replies = [];
    id = take(await start()).session_id;
  }
  const inFlight = new Set();
  const send = () => {
    const call = actor.continue_turn(id).then((result) => { inFlight.delete(call); take(result); });
    inFlight.add(call);
  };
  try {
    while (!done) {
      while (sendAnotherCall({ sent: inFlight.size, generatedTokens: tokenIds.length, lastReplyTokens, maxNewTokens: settings.max_new_tokens })) send();
      await Promise.race(inFlight);
    }
  } finally {
    for (const call of inFlight) call.catch(() => {}); // left to run, like the page's; its failure is no one's
  }
  const doneAt = clock();
  return { sessionId: id, sentAt, firstTokenAt: firstTokenAt ?? doneAt, doneAt, tokenIds, replies };
}

/**
 * One simulated user: `turns` turns of one conversation, `promptIds(turn)` each, with `think` seconds before each
 * (the first one staggers the users' arrivals). The conversation starts on `pick()`'s canister, moves after its
 * first reply to the canister `lessCrowdedThan(member)` names, if any (as the page's does), and stays there; a call
 * refused for a reason failoverReason names moves it to `pick(exclude)`'s canister, where the whole conversation so
 * far (its token ids) is replayed into a new session. Returns the user's record for summarizeLoad.
 */
export async function simulateUser({
  pick, lessCrowdedThan = async () => null, turns, promptIds, settings, think, clock, sleepUntil, maxMoves = 8,
}) {
  const record = { turns: [], moves: 0, crowdedMoves: 0, refused: 0, failed: 0, lost: false, canisters: [] };
  let member = null;
  let sessionId = null;
  let context = []; // every token id of the conversation, to replay it elsewhere
  for (let turn = 0; turn < turns && !record.lost; turn++) {
    await sleepUntil(clock() + think(turn));
    const prompt = promptIds(turn);
    const tried = new Set();
    let replay = false;
    for (;;) {
      member ??= await pick(tried);
      if (!record.canisters.includes(member.name)) record.canisters.push(member.name);
      try {
        const from = member;
        const result = await runTurn(member.actor, {
          sessionId: replay ? null : sessionId, promptIds: replay ? [...context, ...prompt] : prompt, settings, clock,
          rebalance: replay ? undefined : async (left) => {
            const to = await lessCrowdedThan(from);
            if (!to) return null;
            from.actor.end_session(left).catch(() => {}); // as the page does: free the session left behind
            member = to;
            record.crowdedMoves++;
            record.canisters.push(to.name);
            return to.actor;
          },
        });
        sessionId = result.sessionId;
        context = [...context, ...prompt, ...result.tokenIds];
        record.settledOn ??= member.name;
        record.turns.push({
          canisterId: member.canisterId, sentAt: result.sentAt, firstTokenAt: result.firstTokenAt, doneAt: result.doneAt, tokens: result.tokenIds.length, replies: result.replies,
        });
        break;
      } catch (error) {
        const reason = failoverReason(error);
        if (reason === 'quota' || reason === 'busy') record.refused++;
        else record.failed++;
        tried.add(member.canisterId);
        if (reason === null || record.moves >= maxMoves) {
          record.lost = true;
          record.error = error.message;
          break;
        }
        try {
          member = await pick(tried);
        } catch (e) {
          record.lost = true;
          record.error = `${error.message}; and no other canister: ${e.message}`;
          break;
        }
        record.moves++;
        replay = true;
      }
    }
  }
  return record;
}

/** A fleet member's load, from its `load` query. */
const memberLoad = ({ actor }) => canisterLoad(actor);

/**
 * The least busy of `members` ({ name, canisterId, actor }) outside `exclude` (canister ids), by their `load` query
 * and the page's rule (leastBusy); throws when none answers.
 */
export async function pickCanister(members, exclude = new Set(), random = Math.random) {
  const candidates = members.filter((m) => !exclude.has(m.canisterId));
  const chosen = await leastBusy(candidates, memberLoad, { random });
  if (!chosen) throw new Error('no canister of the fleet answers');
  return chosen;
}

/**
 * The `lessCrowdedThan(member)` of simulateUser: the page's rule (lessCrowded) against the other `members`.
 */
export function crowdingCheck(members, random = Math.random) {
  return (current) => lessCrowded(current, members.filter((m) => m !== current), memberLoad, { random });
}

/**
 * How a new conversation picks its canister (the user's `index`-th of `members`); a conversation that must move
 * always goes to the least busy other canister.
 *  - least-busy: the page's way (frontend-canister/src/fleet-rules.js), over all canisters;
 *  - even: canister index mod N, the balance a placement that knew every other user's choice would reach.
 */
export const PLACEMENTS = ['least-busy', 'even'];

/** The `pick(exclude)` of simulateUser for a user under `placement` (one of PLACEMENTS). */
export function placementPick(placement, { members, index, random = Math.random }) {
  if (!PLACEMENTS.includes(placement)) throw new Error(`unknown placement '${placement}'`);
  return async (exclude = new Set()) => {
    if (placement === 'even' && exclude.size === 0) return members[index % members.length];
    return pickCanister(members, exclude, random);
  };
}
