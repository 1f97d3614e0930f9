package org.icgpt2.canister;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PromptCostTest {
    private static final long M = 1_000_000L;

    @Test
    void beforeAnyBatchEveryTokenCostsTheInitialGuess() {
        PromptCost cost = new PromptCost(16, 370 * M);
        assertEquals(20 * 370 * M, cost.ofPrompt(20));
        assertEquals(5, cost.largestBatchWithin(16, 2_000 * M));
    }

    @Test
    void aPromptIsPricedAsItsFullBatchesPlusThePartialOneAtTheirOwnCosts() {
        PromptCost cost = new PromptCost(16, 370 * M);
        cost.learn(16, 2_780 * M);
        cost.learn(4, 800 * M);
        // 20 tokens = 16 + 4: 3.58 B, where 20 × the last batch's 0.2 B per token would say 4 B (a slice more)
        assertEquals(3_580 * M, cost.ofPrompt(20));
        assertEquals(2 * 2_780 * M, cost.ofPrompt(32));
        // a size not read yet: the last batch's cost per token
        assertEquals(3 * 200 * M, cost.ofBatch(3));
    }

    @Test
    void theLargestBatchThatFitsUsesEachSizesOwnCost() {
        PromptCost cost = new PromptCost(16, 370 * M);
        cost.learn(16, 2_780 * M);
        cost.learn(8, 1_500 * M);
        // the last batch's per-token cost (187.5 M) prices unknown sizes: 10 tokens = 1.875 B fits 2 B, 11 does not
        assertEquals(10, cost.largestBatchWithin(16, 2_000 * M));
        assertEquals(16, cost.largestBatchWithin(30, 2_780 * M));
        assertEquals(8, cost.largestBatchWithin(8, 1_600 * M));
        assertEquals(0, cost.largestBatchWithin(16, 100 * M));
        assertEquals(0, cost.largestBatchWithin(16, -5 * M));
    }
}
