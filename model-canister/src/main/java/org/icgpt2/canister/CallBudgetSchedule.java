package org.icgpt2.canister;

/**
 * Per-call instruction budgets of a turn whose caller gave no {@code call_budget}, sized for streaming on the IC.
 *
 * <p>The IC runs a long update in slices of {@link #SLICE_INSTRUCTIONS}, one slice per round (about a second), and a
 * reply is visible only when its call ends. So the first call gets just what the prompt and the first token need,
 * rounded up to whole slices (the first words appear a few rounds after Send), and every later call one slice: a
 * client that keeps one call queued sees an update every round or two, and the canister is never idle between calls.
 * One-slice calls also keep waits short where waits come from the queue: the canister runs its calls first in, first
 * out, so a user who just pressed Send waits behind every call queued before theirs (a round each), and a Stop
 * reaches the canister after the call already queued (one slice). The price is the unused end of each call's slice
 * (a fraction of a token's instructions) and a few more calls per answer. Every budget leaves {@link #REPLY_RESERVE}
 * for the work after the last budget check, so a call does not spill into one more slice.
 */
final class CallBudgetSchedule {
    /** Marks a turn without an explicit budget (explicit budgets are never negative). */
    static final long ADAPTIVE = -1;
    /** MAX_INSTRUCTIONS_PER_SLICE of the IC's application subnets. */
    static final long SLICE_INSTRUCTIONS = 2_000_000_000L;
    /** Tokens the first call should produce after reading the prompt. */
    static final int FIRST_CALL_TOKENS = 1;
    /** Instructions kept for decoding the text and encoding the reply after the last step. */
    static final long REPLY_RESERVE = 50_000_000L;

    private CallBudgetSchedule() {
    }

    /**
     * The budget of call {@code callIndex} (0 = the turn's first call) of an adaptive turn.
     *
     * @param promptCost         estimated instructions of the prompt tokens the turn has still to read
     * @param generatedTokenCost estimated instructions per generated token
     * @param maxBudget          the most one call may spend
     */
    static long budget(int callIndex, long promptCost, long generatedTokenCost, long maxBudget) {
        long slices = 1;
        if (callIndex == 0) {
            long needed = promptCost + FIRST_CALL_TOKENS * generatedTokenCost + REPLY_RESERVE;
            slices = Math.max(1, (needed + SLICE_INSTRUCTIONS - 1) / SLICE_INSTRUCTIONS);
        }
        long budget = slices > maxBudget / SLICE_INSTRUCTIONS ? maxBudget : slices * SLICE_INSTRUCTIONS - REPLY_RESERVE;
        return Math.min(budget, maxBudget);
    }
}
