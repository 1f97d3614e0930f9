package org.icgpt2.canister;

/**
 * Per-call instruction budgets of a turn whose caller gave no {@code call_budget}, sized for streaming on the IC.
 *
 * <p>The IC runs a long update in slices of {@link #SLICE_INSTRUCTIONS}, one slice per round (about a second), and a
 * reply is visible only when its call ends. So the first call gets just what the prompt and the first token need,
 * rounded up to whole slices (the first words appear a few rounds after Send). In a new conversation the second call
 * gets one slice: the client learns the session id from the first reply, so nothing can wait behind the first call,
 * and the second starts a round or two after the first ends; a short second call keeps that gap within 4 rounds (in a
 * follow-up turn the client queues the second call behind the first, so it is sized as a later one). Each later call gets
 * {@link #LATER_CALL_SLICES} slices: a client that keeps one call queued sees an update at least every that many
 * rounds, and the canister is never idle between calls. While other turns are under way it gets one slice instead:
 * the canister runs its queue first in, first out, so a user who just pressed Send waits behind every call queued
 * before theirs, and one-slice calls keep that wait to a round per call (calls kept queued still leave no idle round).
 * Every budget leaves {@link #REPLY_RESERVE} for the work after the last budget check, so a call does not spill into
 * one more slice.
 */
final class CallBudgetSchedule {
    /** Marks a turn without an explicit budget (explicit budgets are never negative). */
    static final long ADAPTIVE = -1;
    /** MAX_INSTRUCTIONS_PER_SLICE of the IC's application subnets. */
    static final long SLICE_INSTRUCTIONS = 2_000_000_000L;
    /** Slices of every call after the first: a visible update at least every 4 rounds (~4 s). */
    static final int LATER_CALL_SLICES = 4;
    /** Slices of every call after the first while other turns are under way: a short wait for newcomers. */
    static final int SHARED_CALL_SLICES = 1;
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
     * @param opensConversation  whether the turn opened its conversation (no call could be queued behind the first)
     * @param othersUnderWay     whether other turns are under way on the canister (their calls share its queue)
     * @param maxBudget          the most one call may spend
     */
    static long budget(int callIndex, long promptCost, long generatedTokenCost, boolean opensConversation,
            boolean othersUnderWay, long maxBudget) {
        long slices;
        if (callIndex == 0) {
            long needed = promptCost + FIRST_CALL_TOKENS * generatedTokenCost + REPLY_RESERVE;
            slices = Math.max(1, (needed + SLICE_INSTRUCTIONS - 1) / SLICE_INSTRUCTIONS);
        } else if (callIndex == 1 && opensConversation) {
            slices = 1;
        } else {
            slices = othersUnderWay ? SHARED_CALL_SLICES : LATER_CALL_SLICES;
        }
        long budget = slices > maxBudget / SLICE_INSTRUCTIONS ? maxBudget : slices * SLICE_INSTRUCTIONS - REPLY_RESERVE;
        return Math.min(budget, maxBudget);
    }
}
