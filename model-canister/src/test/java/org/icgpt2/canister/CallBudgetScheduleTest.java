package org.icgpt2.canister;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CallBudgetScheduleTest {
    private static final long B = 1_000_000_000L;
    private static final long MAX = 36 * B;
    private static final long RESERVE = CallBudgetSchedule.REPLY_RESERVE;

    @Test
    void firstCallCoversTheShortPromptAndOneTokenInWholeSlices() {
        // 20 tokens × 0.17 B + 0.26 B + 0.05 B = 3.71 B: two slices, less the reply reserve
        assertEquals(4 * B - RESERVE, CallBudgetSchedule.budget(0, 20 * 170_000_000L, 260_000_000L, 0, 0, MAX));
        // 25 tokens × 0.17 B + 0.26 B + 0.05 B = 4.56 B: three slices
        assertEquals(6 * B - RESERVE, CallBudgetSchedule.budget(0, 25 * 170_000_000L, 260_000_000L, 0, 0, MAX));
        // the first call still reads the whole prompt while others are under way: a newcomer's first token does not
        // wait for more calls
        assertEquals(4 * B - RESERVE, CallBudgetSchedule.budget(0, 20 * 170_000_000L, 260_000_000L, 3, 2, MAX));
    }

    @Test
    void aFollowUpWithLittleLeftToReadGetsOneSlice() {
        // 3 tokens × 0.17 B + 0.3 B + 0.05 B = 0.86 B
        assertEquals(2 * B - RESERVE, CallBudgetSchedule.budget(0, 3 * 170_000_000L, 300_000_000L, 0, 0, MAX));
        assertEquals(2 * B - RESERVE, CallBudgetSchedule.budget(0, 0, 300_000_000L, 0, 0, MAX));
    }

    @Test
    void theSecondCallGetsOneSliceSoTheGapAfterTheFirstReplyStaysShort() {
        assertEquals(2 * B - RESERVE, CallBudgetSchedule.budget(1, 0, 260_000_000L, 0, 0, MAX));
        assertEquals(2 * B - RESERVE, CallBudgetSchedule.budget(1, 500 * 170_000_000L, 260_000_000L, 0, 0, MAX));
    }

    @Test
    void laterCallsGetTwoSlicesWhileTheTurnIsAlone() {
        for (int call = 2; call < 6; call++) {
            assertEquals(4 * B - RESERVE, CallBudgetSchedule.budget(call, 0, 260_000_000L, 0, 0, MAX));
            assertEquals(4 * B - RESERVE, CallBudgetSchedule.budget(call, 500 * 170_000_000L, 260_000_000L, 0, 0, MAX));
        }
    }

    @Test
    void laterCallsGetOneSliceWhileOtherTurnsAreUnderWay() {
        for (int call = 1; call < 6; call++) {
            // the younger of two
            assertEquals(2 * B - RESERVE, CallBudgetSchedule.budget(call, 0, 260_000_000L, 1, 1, MAX));
            // the oldest of three or more: its 2 slices would delay every newcomer's first token
            assertEquals(2 * B - RESERVE, CallBudgetSchedule.budget(call, 0, 260_000_000L, 2, 0, MAX));
            assertEquals(2 * B - RESERVE, CallBudgetSchedule.budget(call, 0, 260_000_000L, 7, 3, MAX));
        }
    }

    @Test
    void theOlderOfTwoTurnsKeepsTwoSlicesSoThatItEndsFirst() {
        for (int call = 2; call < 6; call++) {
            assertEquals(4 * B - RESERVE, CallBudgetSchedule.budget(call, 0, 260_000_000L, 1, 0, MAX));
        }
        // the second call stays short
        assertEquals(2 * B - RESERVE, CallBudgetSchedule.budget(1, 0, 260_000_000L, 1, 0, MAX));
    }

    @Test
    void aLongPromptIsCappedAtTheMaximum() {
        // 1000 × 0.17 B = 170 B: more than one call can do
        assertEquals(MAX, CallBudgetSchedule.budget(0, 1000 * 170_000_000L, 260_000_000L, 0, 0, MAX));
        // 200 tokens: 34.31 B, 18 slices = 36 B less the reserve, which is under the maximum
        assertEquals(36 * B - RESERVE, CallBudgetSchedule.budget(0, 200 * 170_000_000L, 260_000_000L, 0, 0, MAX));
        // a maximum below one slice wins
        assertEquals(B, CallBudgetSchedule.budget(2, 0, 260_000_000L, 0, 0, B));
    }
}
