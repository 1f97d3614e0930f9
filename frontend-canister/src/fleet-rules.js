// The rules of a fleet of model canisters that the page (src/fleet.ts) and scripts/loadtest (scripts/lib/loadtest.mjs)
// both follow: which failed calls move a conversation to another canister, and which canister is the least busy.
// Plain JavaScript with JSDoc types and no imports, so that Node loads it as it is and TypeScript checks it.

/** The canister answered `Err(text)`. */
export class CanisterError extends Error {
  name = 'CanisterError';
}

/** @typedef {'stopped' | 'quota' | 'busy'} FailoverReason Why a failed call moves a conversation to another canister. */
/** @typedef {FailoverReason | 'crowded'} MoveReason Why a conversation left its canister (see also lessCrowded). */

/** IC error codes of a canister that cannot run messages now: stopped, stopping, no module (mid-reinstall), frozen. */
const UNAVAILABLE_ERROR_CODES = new Set(['IC0508', 'IC0509', 'IC0537', 'IC0207']);
const UNAVAILABLE_TEXT = /is stopped|is stopping|contains no Wasm module|out of cycles/i;

/** @typedef {{ rejectMessage?: unknown, rejectErrorCode?: unknown }} RejectCode The reject parts of an agent error's code. */

/**
 * The canister's refusals that another canister need not repeat: the hourly quota spent, or no room for a session.
 * @param {string} text
 * @returns {FailoverReason | null}
 */
function refusalOf(text) {
  if (/^quota\b/i.test(text) || /\bquota:/i.test(text)) return 'quota';
  if (/^busy\b/i.test(text)) return 'busy';
  return null;
}

/**
 * Why a failed call should move its conversation to another canister, or null when moving would not help (network
 * failures and other errors: another canister would fail the same way). Rejects of a stopped, stopping, module-less
 * or frozen canister are 'stopped'; the canister's `Err "quota: …"` (or an ingress refused for quota) is 'quota', its
 * `Err "busy: …"` (all sessions taken) is 'busy'.
 * @param {unknown} error
 * @returns {FailoverReason | null}
 */
export function failoverReason(error) {
  if (error instanceof CanisterError) return refusalOf(error.message);
  // The agent's errors (@icp-sdk/core) carry a reject in their `code`.
  const code = error instanceof Error ? /** @type {{ code?: RejectCode }} */ (error).code : undefined;
  const message = code?.rejectMessage;
  if (typeof message !== 'string') return null;
  if (UNAVAILABLE_ERROR_CODES.has(String(code?.rejectErrorCode)) || UNAVAILABLE_TEXT.test(message)) return 'stopped';
  return refusalOf(message);
}

/**
 * @typedef {{ sessionsInUse: number, activeTurns: number }} CanisterLoad What a canister reports about its load: the
 * conversations whose users are chatting there (called in the last minutes), and the turns under way now.
 */

/**
 * A canister's load, from its cheap `load` query.
 * @param {{ load: () => Promise<{ sessions_in_use: number, active_turns: number }> }} actor
 * @returns {Promise<CanisterLoad>}
 */
export async function canisterLoad(actor) {
  const load = await actor.load();
  return { sessionsInUse: load.sessions_in_use, activeTurns: load.active_turns };
}

/**
 * The candidates whose load could be read, least busy first: the fewest conversations in use (a conversation stays on
 * its canister, so those are the calls to come; turns under way come and go as users read and write), then the
 * fewest active turns, ties broken at random so that clients starting together spread out. A candidate whose load
 * cannot be read (a stopped canister) is left out and handed to `onUnreachable`.
 * @template T
 * @param {readonly T[]} candidates
 * @param {(candidate: T) => Promise<CanisterLoad>} loadOf
 * @param {{ random?: () => number, onUnreachable?: (candidate: T) => void }} options
 * @returns {Promise<{ candidate: T, load: CanisterLoad }[]>}
 */
async function byLoad(candidates, loadOf, { random = Math.random, onUnreachable }) {
  const probed = await Promise.all(
    candidates.map(async (candidate) => {
      try {
        return { candidate, load: await loadOf(candidate), tieBreak: random() };
      } catch {
        onUnreachable?.(candidate);
        return null;
      }
    }),
  );
  const answered = probed.filter((p) => p !== null);
  answered.sort(
    (a, b) =>
      a.load.sessionsInUse - b.load.sessionsInUse || a.load.activeTurns - b.load.activeTurns || a.tieBreak - b.tieBreak,
  );
  return answered;
}

/**
 * The least busy of `candidates` (see byLoad); null when none answered.
 * @template T
 * @param {readonly T[]} candidates
 * @param {(candidate: T) => Promise<CanisterLoad>} loadOf
 * @param {{ random?: () => number, onUnreachable?: (candidate: T) => void }} [options]
 * @returns {Promise<T | null>}
 */
export async function leastBusy(candidates, loadOf, options = {}) {
  const [first] = await byLoad(candidates, loadOf, options);
  return first ? first.candidate : null;
}

/** How many more conversations in use than another canister make a new conversation's canister crowded. */
export const CROWDED_MARGIN = 2;

/**
 * Where a new conversation goes after its first reply, or null to stay on `current`. A canister's load comes from
 * its certified state, where a conversation appears only when its first call has ended, seconds after it was sent:
 * clients that start within those seconds all see the same least busy canister and all go there. By its first reply
 * a conversation sees the ones that started before it, and when its canister has CROWDED_MARGIN more in use (itself
 * included) than the least busy of `others`, it moves there, which evens the two out (with a margin of one, two
 * conversations could swap places back and forth).
 * @template T
 * @param {T} current
 * @param {readonly T[]} others
 * @param {(candidate: T) => Promise<CanisterLoad>} loadOf
 * @param {{ random?: () => number, onUnreachable?: (candidate: T) => void }} [options]
 * @returns {Promise<T | null>}
 */
export async function lessCrowded(current, others, loadOf, options = {}) {
  const loads = await byLoad([current, ...others], loadOf, options);
  const own = loads.find((l) => l.candidate === current);
  const best = loads.find((l) => l.candidate !== current);
  if (!own || !best) return null;
  return own.load.sessionsInUse >= best.load.sessionsInUse + CROWDED_MARGIN ? best.candidate : null;
}
