package org.icgpt2.canister;

/**
 * What reading prompt tokens costs, learned from the batches read so far. A batch's cost is not proportional to its
 * size (the kernels load each weight once per batch, so a batch of 4 tokens costs more per token than one of 16), and
 * a call's first budget is sized from it in whole slices, where a tenth of a slice too much is a round later. So the
 * estimate keeps the last cost of each batch size; a size not read yet is priced at the last batch's cost per token.
 */
final class PromptCost {
    private final int maxBatch;
    /** Index: batch size; 0 where no batch of that size was read since set-up. */
    private final long[] lastCostOfSize;
    private long perToken;

    PromptCost(int maxBatch, long initialPerToken) {
        this.maxBatch = maxBatch;
        this.lastCostOfSize = new long[maxBatch + 1];
        this.perToken = initialPerToken;
    }

    /** Records what a batch of {@code batch} tokens cost (the caller adds its margin). */
    void learn(int batch, long instructions) {
        lastCostOfSize[batch] = instructions;
        perToken = instructions / batch;
    }

    /** Expected instructions of one batch of {@code batch} tokens. */
    long ofBatch(int batch) {
        long known = lastCostOfSize[batch];
        return known != 0 ? known : batch * perToken;
    }

    /** Expected instructions of reading {@code tokens} tokens in full batches and one partial batch. */
    long ofPrompt(int tokens) {
        int rest = tokens % maxBatch;
        return (long) (tokens / maxBatch) * ofBatch(maxBatch) + (rest == 0 ? 0 : ofBatch(rest));
    }

    /** The largest batch of at most {@code tokens} tokens expected to fit in {@code instructions}; 0 if none does. */
    int largestBatchWithin(int tokens, long instructions) {
        for (int batch = Math.min(tokens, maxBatch); batch > 0; batch--) {
            if (ofBatch(batch) <= instructions) {
                return batch;
            }
        }
        return 0;
    }
}
