package org.icgpt2.gpt2;

/** Picks the next token from logits. Implementations keep their random state, so a session resumes deterministically. */
public interface Sampler {
    /** @param logits the model's logits (not modified) */
    int sample(float[] logits);

    /**
     * How far below the highest logit the logits this sampler reads must be the f32 model's ({@link ScreenedLmHead}):
     * 0 for greedy decoding; for sampling, the distance below which a token's probability is under 1e-9 of the top
     * token's. +Infinity for all logits exactly.
     */
    float exactLogitMargin();

    /** A sampler for the settings over a vocabulary of {@code vocabSize} logits. */
    static Sampler create(SamplerSettings settings, int vocabSize) {
        return settings.greedy() ? new ArgmaxSampler(vocabSize) : new RandomSampler(settings, vocabSize);
    }
}
