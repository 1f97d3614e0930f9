// How a client keeps a canister busy during a turn, followed by the page (src/turn.ts) and by the scripts that act as
// its users (scripts/loadtest, scripts/bench --streaming). Plain JavaScript with JSDoc types and no imports, so that
// Node loads it as it is and TypeScript checks it.

/**
 * Whether to send one more `continue_turn` now, with `sent` calls of the turn already sent and not answered. The
 * client keeps one call queued behind the running one, so the canister goes from call to call without waiting for
 * the client; but not a call that would find the answer done: each call already sent makes about as many tokens as
 * the last reply brought, and the answer ends at `maxNewTokens` at the latest. A call that finds the turn done
 * still takes the canister a message (a round under the IC's timing) from whoever is queued behind it. An answer
 * that ends early (a stop token) can still leave one such call.
 * @param {{ sent: number, generatedTokens: number, lastReplyTokens: number, maxNewTokens: number }} turn
 * @returns {boolean}
 */
export function sendAnotherCall({ sent, generatedTokens, lastReplyTokens, maxNewTokens }) {
  if (sent >= 2) return false;
  if (sent === 0) return true;
  return generatedTokens + sent * lastReplyTokens < maxNewTokens;
}
