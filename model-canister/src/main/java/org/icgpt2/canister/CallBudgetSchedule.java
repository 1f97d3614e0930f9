package org.icgpt2.canister;

/**
 * Per-call instruction budgets of a turn whose caller gave no {@code call_budget}, sized for streaming on the IC.
 *
 * <p>The IC runs a long update in slices of {@link #SLICE_INSTRUCTIONS}, one slice per round (about a second); a
 * message is executed the round after it arrives, and its reply is visible the round after it ends. So the first call
 * gets just what the prompt and the first token need, rounded up to whole slices (the first words appear a few rounds
 * after Send), and the second call one slice: nothing can wait behind the first call (ingress messages sent together
 * may reach the canister in either order), so the second is sent on the first reply and the gap before its reply is
 * a round of certification, the client's reaction, a round of induction and its own slice. From then on the client
 * keeps one call queued behind the running one, and each later call gets {@link #LATER_CALL_SLICES} slices: the reply
 * of a call ends its round, the next call sent on it arrives during the queued call's first slice and runs after its
 * second, so the canister never idles (with one-slice calls it would idle a round in three). While other turns are
 * under way a later call gets one slice instead: the canister runs its queue first in, first out, so a user who just
 * pressed Send waits a round per call queued before theirs, and the other turns' calls fill the rounds between one
 * turn's calls. Except when just two turns are under way: then the older keeps its 2 slices, so that it ends first.
 * Two turns that share the canister call by call end together, their users read and come back together, and the
 * canister idles meanwhile; with the older ahead they fall out of step, and one user's reading overlaps the other's
 * answer. (With more turns under way, one slice for all: the older would delay every newcomer's first token.)
 * Every budget leaves {@link #REPLY_RESERVE} for the work after the last budget check, so a call does not
 * spill into one more slice.
 */
final class CallBudgetSchedule {
    /** Marks a turn without an explicit budget (explicit budgets are never negative). */
    static final long ADAPTIVE = -1;
    /** MAX_INSTRUCTIONS_PER_SLICE of the IC's application subnets. */
    static final long SLICE_INSTRUCTIONS = 2_000_000_000L;
    /**
     * Slices of every call after the second while the turn is alone, or the older of two: the fewest that leave no
     * idle round.
     */
    static final int LATER_CALL_SLICES = 2;
    /**
     * Slices of the second call (a short gap after the first reply), and of every later one while other turns are
     * under way, but for the older of two (a short wait for newcomers).
     */
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
     * @param othersUnderWay     other turns under way on the canister (their calls share its queue)
     * @param olderUnderWay      how many of them started before this one
     * @param maxBudget          the most one call may spend
     */
    static long budget(int callIndex, long promptCost, long generatedTokenCost, int othersUnderWay,
            int olderUnderWay, long maxBudget) {
        long slices;
        if (callIndex == 0) {
            long needed = promptCost + FIRST_CALL_TOKENS * generatedTokenCost + REPLY_RESERVE;
            slices = Math.max(1, (needed + SLICE_INSTRUCTIONS - 1) / SLICE_INSTRUCTIONS);
        } else if (callIndex == 1 || othersUnderWay > 1 || olderUnderWay > 0) {
            slices = SHARED_CALL_SLICES;
        } else {
            slices = LATER_CALL_SLICES;
        }
        long budget = slices > maxBudget / SLICE_INSTRUCTIONS ? maxBudget : slices * SLICE_INSTRUCTIONS - REPLY_RESERVE;
        return Math.min(budget, maxBudget);
    }
}
